//! The isolated measurement worker: newline-delimited JSON requests on stdin, replies on
//! stdout. See `colt_measure::protocol`.

fn main() {
    if let Err(e) = colt_measure::worker::worker_main() {
        eprintln!("colt-worker: {e}");
        std::process::exit(2);
    }
}
