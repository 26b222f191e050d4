use warp::http::HeaderValue;

use super::*;

fn headers(pairs: &[(&'static str, &[u8])]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (name, value) in pairs {
        map.append(*name, HeaderValue::from_bytes(value).expect("header value"));
    }
    map
}

fn judge(
    mode: ForwardHeaders,
    pairs: &[(&'static str, &[u8])],
) -> Result<(String, String), String> {
    judged_request(mode, &Method::GET, &headers(pairs)).map_err(|err| {
        assert_eq!(err.status(), StatusCode::FORBIDDEN);
        assert_eq!(err.code(), REFUSED);
        format!("{err:?}")
    })
}

fn ok(method: &str, uri: &str) -> Result<(String, String), String> {
    Ok((method.into(), uri.into()))
}

const NGINX_PAIR: [(&str, &[u8]); 2] = [
    ("x-original-method", b"DELETE"),
    ("x-original-uri", b"/api/v1alpha/wallets/w1?x=1"),
];
const TRAEFIK_PAIR: [(&str, &[u8]); 2] = [
    ("x-forwarded-method", b"DELETE"),
    ("x-forwarded-uri", b"/api/v1alpha/wallets/w1?x=1"),
];

#[test]
fn each_mode_reads_its_own_family() {
    use ForwardHeaders::*;
    let want = ok("DELETE", "/api/v1alpha/wallets/w1?x=1");
    assert_eq!(judge(Nginx, &NGINX_PAIR), want);
    assert_eq!(judge(Traefik, &TRAEFIK_PAIR), want);
    assert_eq!(judge(Any, &NGINX_PAIR), want);
    assert_eq!(judge(Any, &TRAEFIK_PAIR), want);
    // The other family is ignored in the named modes, whatever it says.
    let mut mixed = NGINX_PAIR.to_vec();
    mixed.push(("x-forwarded-uri", b"/api/v1alpha/admin"));
    mixed.push(("x-forwarded-method", b"\xff"));
    assert_eq!(judge(Nginx, &mixed), want);
    assert!(judge(Traefik, &mixed).is_err());
    assert!(judge(Any, &mixed).is_err());
}

#[test]
fn no_forward_header_judges_the_auth_request_itself_only_in_any_mode() {
    assert_eq!(
        judge(ForwardHeaders::Any, &[]),
        ok("GET", "/api/v1alpha/auth")
    );
    let err = judge(ForwardHeaders::Nginx, &[]).unwrap_err();
    assert!(err.contains("X-Original-Method is missing"), "{err}");
    let err = judge(ForwardHeaders::Traefik, &[("x-forwarded-method", b"GET")]).unwrap_err();
    assert!(err.contains("X-Forwarded-Uri is missing"), "{err}");
}

#[test]
fn families_that_disagree_are_refused() {
    let mut both = NGINX_PAIR.to_vec();
    both.extend(TRAEFIK_PAIR);
    assert_eq!(
        judge(ForwardHeaders::Any, &both),
        ok("DELETE", "/api/v1alpha/wallets/w1?x=1")
    );
    let attacks: [&[(&str, &[u8])]; 3] = [
        &[("x-forwarded-uri", b"/api/v1alpha/wallets/w1")],
        &[("x-forwarded-method", b"GET")],
        &[("x-forwarded-method", b"delete")],
    ];
    for attack in attacks {
        let mut pairs = NGINX_PAIR.to_vec();
        pairs.extend_from_slice(attack);
        let err = judge(ForwardHeaders::Any, &pairs).unwrap_err();
        assert!(err.contains("disagree"), "{err}");
    }
}

#[test]
fn unreadable_headers_are_refusals_not_fall_throughs() {
    let cases: [(&str, &[u8], &str); 7] = [
        ("x-forwarded-uri", b"/api/\xff", "not visible ASCII"),
        ("x-forwarded-uri", b"/api/a b", "not visible ASCII"),
        ("x-forwarded-uri", b"   ", "empty"),
        ("x-forwarded-uri", b"", "empty"),
        ("x-forwarded-uri", b"api/v1alpha/admin", "must start with /"),
        ("x-forwarded-uri", b"http://evil/api", "must start with /"),
        ("x-forwarded-method", b"GE(T", "not an HTTP method"),
    ];
    for (name, value, problem) in cases {
        let mut pairs = NGINX_PAIR.to_vec();
        pairs.push((name, value));
        let err = judge(ForwardHeaders::Any, &pairs).unwrap_err();
        assert!(err.contains(problem), "{name}: {err}");
        assert!(err.to_ascii_lowercase().contains(name), "{name}: {err}");
    }
    let twice = [
        ("x-original-method", b"GET".as_slice()),
        ("x-original-uri", b"/a"),
        ("x-original-uri", b"/a"),
    ];
    for mode in [ForwardHeaders::Any, ForwardHeaders::Nginx] {
        let err = judge(mode, &twice).unwrap_err();
        assert!(err.contains("more than once"), "{err}");
    }
}

#[test]
fn half_a_request_is_refused() {
    let err = judge(ForwardHeaders::Any, &[("x-forwarded-uri", b"/a")]).unwrap_err();
    assert!(
        err.contains("without X-Original-Method or X-Forwarded-Method"),
        "{err}"
    );
    let err = judge(ForwardHeaders::Any, &[("x-original-method", b"GET")]).unwrap_err();
    assert!(
        err.contains("without X-Original-URI or X-Forwarded-Uri"),
        "{err}"
    );
    // A method from one family and the URI from the other is one request.
    assert_eq!(
        judge(
            ForwardHeaders::Any,
            &[("x-original-method", b"POST"), ("x-forwarded-uri", b" /b ")]
        ),
        ok("POST", "/b")
    );
}
