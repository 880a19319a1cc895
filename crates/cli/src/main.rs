//! The `oxla` command (being built: see issue 3).
fn main() {
    println!("oxla");
}
