// `sqlx::migrate!` embeds the files of ../migrations when this crate
// compiles, but on stable Rust it cannot tell Cargo to watch that folder: a
// new migration would be left out of an incremental build.
fn main() {
    println!("cargo:rerun-if-changed=../migrations");
}
