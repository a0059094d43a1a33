//! `embed_migrations!` compiles the migration files into the crate; it cannot tell cargo about a
//! migration directory added later, so rebuild whenever anything under `migrations/` changes.
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
