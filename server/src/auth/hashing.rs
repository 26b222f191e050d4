//! The password hashes' own threads: one per core, each keeping its Argon2 memory
//! (19 MiB with the default parameters) for its whole life.
//!
//! Why not `spawn_blocking` and `Argon2::verify_password`: every check then allocated and
//! freed 19 MiB on whichever blocking thread ran it, and glibc, which raises its mmap
//! threshold to the size of the largest block freed, soon served those buffers from
//! per-thread arenas and kept them: 200 failed sign-ins left a server at over a gigabyte
//! resident. Here the number of hashes at once is the number of threads, and their
//! memory is allocated once per thread and reused, so sign-in load costs at most
//! `threads × 19 MiB`, however long it lasts.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};

use argon2::password_hash::phc::{Output, ParamsString, PasswordHash, Salt};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use sha2::Sha256;
use subtle::ConstantTimeEq;
use tokio::sync::oneshot;

use crate::store::PasswordRecord;

/// Specter's PBKDF2 iteration count.
const SPECTER_ITERATIONS: u32 = 10_000;
/// The longest Argon2 output a PHC string may hold.
const MAX_OUTPUT: usize = 64;

/// Work for a hashing thread, given the thread's memory.
type Job = Box<dyn FnOnce(&mut Memory) + Send>;

/// A fixed set of threads that hash and check passwords, one job each at a time. Clones
/// share the threads.
#[derive(Clone)]
pub struct HashPool {
    jobs: mpsc::Sender<Job>,
    threads: usize,
}

impl HashPool {
    /// Starts `threads` hashing threads (at least one). They end when the pool and its clones are dropped
    /// and the jobs queued before have run.
    ///
    /// # Errors
    ///
    /// When the OS refuses a thread.
    pub fn new(threads: usize) -> Result<HashPool, String> {
        let threads = threads.max(1);
        let (jobs, queue) = mpsc::channel::<Job>();
        let queue = Arc::new(Mutex::new(queue));
        for n in 0..threads {
            let queue = Arc::clone(&queue);
            std::thread::Builder::new()
                .name(format!("tokenlife-hash-{n}"))
                .spawn(move || {
                    let mut memory = Memory::default();
                    loop {
                        // The guard is a temporary of this statement: the queue is free
                        // again while the job runs.
                        let job = queue.lock().unwrap_or_else(|e| e.into_inner()).recv();
                        let Ok(job) = job else { break };
                        // A job that panics loses its answer (its caller sees `None`), not
                        // the thread.
                        let _ = catch_unwind(AssertUnwindSafe(|| job(&mut memory)));
                    }
                })
                .map_err(|err| format!("cannot start a hashing thread: {err}"))?;
        }
        Ok(HashPool { jobs, threads })
    }

    /// How many hashes may run at once.
    pub fn threads(&self) -> usize {
        self.threads
    }

    /// Runs `work` on a hashing thread and waits for its answer; `None` if the pool is
    /// gone or the work panicked. Work whose caller stopped waiting (a client that went
    /// away) is skipped.
    pub async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Memory) -> T + Send + 'static,
    ) -> Option<T> {
        let (reply, answer) = oneshot::channel();
        let job: Job = Box::new(move |memory| {
            if !reply.is_closed() {
                let _ = reply.send(work(memory));
            }
        });
        self.jobs.send(job).ok()?;
        answer.await.ok()
    }

    /// Whether `password` matches `record`, checked on a hashing thread.
    pub async fn verify(&self, record: PasswordRecord, password: String) -> bool {
        self.run(move |memory| memory.verify(&record, &password))
            .await
            .unwrap_or(false)
    }

    /// A new Argon2id record of `password`, hashed on a hashing thread.
    ///
    /// # Errors
    ///
    /// When the OS random generator or the hash fails.
    pub async fn hash(&self, password: String) -> Result<PasswordRecord, String> {
        self.run(move |memory| memory.hash(&password))
            .await
            .unwrap_or_else(|| Err("the hashing threads are gone".into()))
    }
}

/// The Argon2 memory of one thread, allocated at its first hash and kept.
#[derive(Default)]
pub struct Memory {
    blocks: Vec<Block>,
}

impl Memory {
    /// `count` blocks: the kept ones when they are enough. A record with more memory than
    /// the default (imported from elsewhere) grows the kept memory to its size.
    fn blocks(&mut self, count: usize) -> &mut [Block] {
        if self.blocks.len() < count {
            self.blocks = vec![Block::new(); count];
        }
        &mut self.blocks[..count]
    }

    /// Whether `password` matches `record`. Specter records are checked as Specter does:
    /// PBKDF2-HMAC-SHA256 over the salt's text, 10,000 iterations, against base64
    /// `pwdhash`.
    pub fn verify(&mut self, record: &PasswordRecord, password: &str) -> bool {
        match record {
            PasswordRecord::Phc(phc) => self.verify_phc(phc, password).unwrap_or(false),
            PasswordRecord::Specter { salt, pwdhash } => {
                let Ok(expected) = STANDARD.decode(pwdhash.trim()) else {
                    return false;
                };
                let derived = pbkdf2::pbkdf2_hmac_array::<Sha256, 32>(
                    password.as_bytes(),
                    salt.as_bytes(),
                    SPECTER_ITERATIONS,
                );
                derived.as_slice().ct_eq(expected.as_slice()).into()
            }
        }
    }

    /// An Argon2 PHC string checked with its own algorithm, version and parameters, in
    /// this thread's memory; `None` when the string is not one.
    fn verify_phc(&mut self, phc: &str, password: &str) -> Option<bool> {
        let hash = PasswordHash::new(phc).ok()?;
        let algorithm = Algorithm::try_from(hash.algorithm.as_str()).ok()?;
        let version = match hash.version {
            Some(version) => Version::try_from(version).ok()?,
            None => Version::default(),
        };
        let params = Params::try_from(&hash).ok()?;
        let (salt, expected) = (hash.salt.as_ref()?, hash.hash.as_ref()?);
        let mut out = [0u8; MAX_OUTPUT];
        let out = out.get_mut(..expected.len())?;
        let blocks = self.blocks(params.block_count());
        Argon2::new(algorithm, version, params)
            .hash_password_into_with_memory(password.as_bytes(), salt.as_ref(), out, blocks)
            .ok()?;
        Some(out.ct_eq(expected.as_bytes()).into())
    }

    /// A new Argon2id record of `password` (default parameters, random 16-byte salt).
    ///
    /// # Errors
    ///
    /// When the OS random generator or the hash fails.
    pub fn hash(&mut self, password: &str) -> Result<PasswordRecord, String> {
        let mut salt = [0u8; 16];
        getrandom::fill(&mut salt).map_err(|err| format!("no OS randomness: {err}"))?;
        let params = Params::default();
        let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
        let blocks = self.blocks(params.block_count());
        Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone())
            .hash_password_into_with_memory(password.as_bytes(), &salt, &mut out, blocks)
            .map_err(|err| format!("cannot hash the password: {err}"))?;
        phc_string(&params, &salt, &out).map(PasswordRecord::Phc)
    }
}

/// The PHC string of an Argon2id v19 hash.
///
/// # Errors
///
/// When a part is out of the format's bounds (never for the default parameters).
pub fn phc_string(params: &Params, salt: &[u8], out: &[u8]) -> Result<String, String> {
    let bad = |err: argon2::password_hash::phc::Error| format!("cannot write the hash: {err}");
    let hash = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(params).map_err(|err| format!("{err}"))?,
        salt: Some(Salt::new(salt).map_err(bad)?),
        hash: Some(Output::new(out).map_err(bad)?),
    };
    Ok(hash.to_string())
}

#[cfg(test)]
mod tests;
