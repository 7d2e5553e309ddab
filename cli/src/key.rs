//! The recovery phrase: `key phrase`, `init --recover`, `restore`.

use std::io::{BufRead, Write};
use std::path::Path;

use anyhow::{Context, Result, bail};
use starling_core::Node;
use starling_core::view::Phrase;

use crate::out::Out;

/// Prints the phrase in numbered rows of four words.
fn print_words(words: &[String]) {
    for (i, row) in words.chunks(4).enumerate() {
        let cells: Vec<String> = row
            .iter()
            .enumerate()
            .map(|(j, w)| format!("{:>2}. {w:<10}", i * 4 + j + 1))
            .collect();
        println!("  {}", cells.join(" "));
    }
}

/// What `init` prints after the identity is made: the phrase, once.
pub(crate) fn show_new(node: &Node) -> Result<()> {
    let words: Vec<String> = node.phrase()?.split(' ').map(String::from).collect();
    println!();
    println!("Your recovery phrase. Write it down and keep it safe: these 24 words");
    println!("bring your identity back on a new device (`starling init --recover`),");
    println!("and anyone who reads them can become you.");
    println!();
    print_words(&words);
    println!();
    Ok(())
}

/// `starling key phrase [--yes]`: shows the phrase after a confirmation.
pub(crate) fn phrase(out: Out, node: &Node, yes: bool) -> Result<()> {
    if !yes {
        eprint!("Anyone who sees your recovery phrase can become you. Show it? [y/N] ");
        std::io::stderr().flush().ok();
        let mut answer = String::new();
        std::io::stdin().lock().read_line(&mut answer)?;
        if !matches!(answer.trim(), "y" | "Y" | "yes") {
            bail!("not shown");
        }
    }
    let words: Vec<String> = node.phrase()?.split(' ').map(String::from).collect();
    let view = Phrase { words };
    out.show(&view, || print_words(&view.words));
    Ok(())
}

/// `starling init --recover`: reads the phrase from standard input and
/// makes a new device of that identity in `home`.
pub(crate) fn recover_home(home: &Path) -> Result<Node> {
    eprintln!("Type or paste your 24-word recovery phrase, then press Enter:");
    let mut words = String::new();
    let stdin = std::io::stdin();
    for line in stdin.lock().lines() {
        let line = line.context("cannot read the phrase")?;
        words.push_str(&line);
        words.push(' ');
        if words.split_whitespace().count() >= starling_core::backup::PHRASE_WORDS {
            break;
        }
    }
    Ok(Node::recover(home, &words)?)
}
