//! The load client of `scripts/bench-create.sh`: CLIENTS keep-alive connections each
//! create a token (timed) and then delete it (not timed), so that the store holds the
//! same number of tokens (give or take one per client) from the first request to the
//! last and the size a row is labelled with stays true. wrk cannot do this: it times
//! every request it sends, deletes included.
//!
//! `create_load PORT BASIC CLIENTS CREATES` (BASIC is the whole `Authorization` value)
//! prints one line: `creates=N secs=S rate=R p50_ms=A p99_ms=B max_ms=C errors=E`.
//! Rate is creates per second of wall time (the deletes share that time).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let parsed = (|| -> Option<(u16, String, usize, usize)> {
        Some((
            args.get(1)?.parse().ok()?,
            args.get(2)?.clone(),
            args.get(3)?.parse().ok()?,
            args.get(4)?.parse().ok()?,
        ))
    })();
    let Some((port, basic, clients, creates)) = parsed else {
        eprintln!("usage: create_load PORT BASIC CLIENTS CREATES");
        std::process::exit(2);
    };
    let per_client = creates.div_ceil(clients.max(1));
    let run = format!("{:x}", std::process::id());
    let start = Instant::now();
    let workers: Vec<_> = (0..clients)
        .map(|client| {
            let basic = basic.clone();
            let run = run.clone();
            std::thread::spawn(move || worker(port, &basic, &format!("{run}-{client}"), per_client))
        })
        .collect();
    let mut latencies = Vec::with_capacity(per_client * clients);
    let mut errors = 0usize;
    for worker in workers {
        match worker.join() {
            Ok(Ok((times, failed))) => {
                latencies.extend(times);
                errors += failed;
            }
            Ok(Err(err)) => {
                eprintln!("create_load: {err}");
                std::process::exit(1);
            }
            Err(_) => {
                eprintln!("create_load: a client panicked");
                std::process::exit(1);
            }
        }
    }
    let secs = start.elapsed().as_secs_f64();
    latencies.sort();
    let at = |q: f64| -> f64 {
        let index = ((latencies.len() as f64 * q).ceil() as usize).saturating_sub(1);
        latencies
            .get(index.min(latencies.len().saturating_sub(1)))
            .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    };
    println!(
        "creates={} secs={secs:.2} rate={:.0} p50_ms={:.2} p99_ms={:.2} max_ms={:.2} errors={errors}",
        latencies.len(),
        latencies.len() as f64 / secs,
        at(0.50),
        at(0.99),
        at(1.0),
    );
}

/// One client: `count` creates, each followed by the delete of its token.
fn worker(
    port: u16,
    basic: &str,
    name: &str,
    count: usize,
) -> Result<(Vec<Duration>, usize), String> {
    let stream = TcpStream::connect(("127.0.0.1", port)).map_err(|err| err.to_string())?;
    stream.set_nodelay(true).map_err(|err| err.to_string())?;
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .map_err(|err| err.to_string())?;
    let mut writer = stream.try_clone().map_err(|err| err.to_string())?;
    let mut reader = BufReader::new(stream);
    let mut times = Vec::with_capacity(count);
    let mut errors = 0;
    for i in 0..count {
        let body =
            format!(r#"{{"jwt_token_description":"load {name} {i}","jwt_token_life":"1h"}}"#);
        let request = format!(
            "POST /api/v1alpha/token/ HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: {basic}\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        let sent = Instant::now();
        writer
            .write_all(request.as_bytes())
            .map_err(|err| err.to_string())?;
        let (status, answer) = read_response(&mut reader)?;
        times.push(sent.elapsed());
        if status != 201 {
            errors += 1;
            continue;
        }
        let id = serde_json::from_slice::<serde_json::Value>(&answer)
            .ok()
            .and_then(|v| v.get("jwt_token_id")?.as_str().map(str::to_owned))
            .ok_or("a create answered without jwt_token_id")?;
        let request = format!(
            "DELETE /api/v1alpha/token/{id} HTTP/1.1\r\nHost: 127.0.0.1\r\n\
             Authorization: {basic}\r\nContent-Length: 0\r\n\r\n"
        );
        writer
            .write_all(request.as_bytes())
            .map_err(|err| err.to_string())?;
        let (status, _) = read_response(&mut reader)?;
        if status != 200 {
            errors += 1;
        }
    }
    Ok((times, errors))
}

/// The status and body of one HTTP/1.1 answer (the server always sends Content-Length).
fn read_response(reader: &mut BufReader<TcpStream>) -> Result<(u16, Vec<u8>), String> {
    let mut line = String::new();
    reader.read_line(&mut line).map_err(|err| err.to_string())?;
    let status = line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("not an HTTP answer: {line:?}"))?;
    let mut length = 0usize;
    loop {
        line.clear();
        reader.read_line(&mut line).map_err(|err| err.to_string())?;
        let header = line.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse().map_err(|_| "bad content-length")?;
        }
    }
    let mut body = vec![0u8; length];
    reader
        .read_exact(&mut body)
        .map_err(|err| err.to_string())?;
    Ok((status, body))
}
