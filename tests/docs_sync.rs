//! The porting guide on docs.rs (`asyncio::porting`) and the README carry
//! the same table of differences from asyncio (issue 14): this test fails
//! when one is edited without the other.

const README: &str = include_str!("../README.md");
const PORTING: &str = include_str!("../src/porting.md");
const HEADING: &str = "## Where the crate differs from asyncio";

/// The section under `HEADING`, up to the next heading of the same level.
fn differences(text: &str, name: &str) -> String {
    let start = text
        .find(HEADING)
        .unwrap_or_else(|| panic!("{name} has no {HEADING:?} section"));
    let body = &text[start + HEADING.len()..];
    let end = body.find("\n## ").unwrap_or(body.len());
    body[..end].trim().to_owned()
}

#[test]
fn the_porting_guide_and_the_readme_list_the_same_differences() {
    let readme = differences(README, "README.md");
    let porting = differences(PORTING, "src/porting.md");
    assert!(
        readme.lines().filter(|line| line.starts_with("| ")).count() > 40,
        "the README's table of differences looks truncated"
    );
    if readme != porting {
        let first = readme
            .lines()
            .zip(porting.lines())
            .position(|(a, b)| a != b)
            .unwrap_or_else(|| readme.lines().count().min(porting.lines().count()));
        panic!(
            "README.md and src/porting.md differ in the section {HEADING:?}, first at line {} of it:\n  README:  {:?}\n  porting: {:?}",
            first + 1,
            readme.lines().nth(first),
            porting.lines().nth(first),
        );
    }
}
