//! The memory allocator: mimalloc, tuned to give memory back.
//!
//! Why mimalloc: glibc's malloc keeps what every thread freed in its arenas (each sign-in's
//! 19 MiB of argon2 memory stayed: hundreds of MiB after a few dozen sign-ins), musl's costs
//! 20–30 % more CPU per message, and jemalloc is built for one page size and aborts on the
//! 16 KiB-page kernels of the Raspberry Pi 5. mimalloc is fast on both libcs and reads the page
//! size at run time (it runs on 16 KiB-page Apple and Asahi systems too).
//!
//! Tuned: by default mimalloc commits its arenas eagerly (touched pages grow in huge-page steps)
//! and hands freed memory back only after a delay, lazily, when some later allocation gets
//! round to it; an idle server would sit on a burst's peak (45 MiB at rest here, 75 MiB after
//! 40 sign-ins). With `MIMALLOC_ARENA_EAGER_COMMIT=0` and `MIMALLOC_PURGE_DELAY=0` it rests at
//! 18 MiB and returns argon2's memory as soon as a hash is done, for the same CPU per message.
//! mimalloc reads its options from the environment before `main` runs, so the process starts
//! itself again with them set (unless the operator set either, which is then respected).

use std::ffi::OsString;
use std::os::unix::process::CommandExt;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const OPTIONS: [(&str, &str); 2] = [("MIMALLOC_ARENA_EAGER_COMMIT", "0"), ("MIMALLOC_PURGE_DELAY", "0")];

/// Starts this process again with the allocator's options set, when none of them is set yet.
/// Returns only when that is not needed, or not possible (then mimalloc's defaults apply).
pub fn tune() {
    if OPTIONS.iter().any(|(name, _)| std::env::var_os(name).is_some()) {
        return;
    }
    let Ok(exe) = std::env::current_exe() else { return };
    let mut args = std::env::args_os();
    let arg0 = args.next().unwrap_or_else(|| OsString::from("gochat"));
    // `exec` only returns on failure.
    let _failed = std::process::Command::new(exe)
        .arg0(arg0)
        .args(args)
        .envs(OPTIONS)
        .exec();
}
