//! A ticket's comments: an append-only list that is cheap to clone.
//!
//! The command side keeps each ticket's state cached and clones it for every
//! command (the cached copy stays valid if the command is refused). A long
//! ticket has thousands of comments, and cloning and freeing their bodies
//! was most of a command's time on it. Here full chunks are shared between
//! clones (`Arc`), so a clone copies at most one partial chunk and a pointer
//! per full one; nothing ever edits or removes a comment, so nothing shared
//! is ever written.

use std::sync::Arc;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::ticket::Comment;

/// Comments per shared chunk: a clone copies fewer than this many.
const CHUNK: usize = 32;

#[derive(Clone, Default)]
pub struct Comments {
    /// Full chunks, oldest first, shared by every clone.
    full: Arc<Vec<Arc<[Comment]>>>,
    /// The newest comments, fewer than `CHUNK`: each clone has its own.
    tail: Vec<Comment>,
}

impl Comments {
    pub fn new() -> Self {
        Comments::default()
    }

    pub fn len(&self) -> usize {
        self.full.len() * CHUNK + self.tail.len()
    }

    pub fn is_empty(&self) -> bool {
        self.full.is_empty() && self.tail.is_empty()
    }

    pub fn push(&mut self, comment: Comment) {
        self.tail.push(comment);
        if self.tail.len() == CHUNK {
            let chunk: Arc<[Comment]> = std::mem::take(&mut self.tail).into();
            // Copies only the chunk pointers when another clone shares them.
            Arc::make_mut(&mut self.full).push(chunk);
        }
    }

    /// Oldest first.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &Comment> + '_ {
        self.full
            .iter()
            .flat_map(|chunk| chunk.iter())
            .chain(self.tail.iter())
    }

    /// The comments from the `start`-th on (oldest first), without walking
    /// those before it.
    pub fn since(&self, start: usize) -> impl Iterator<Item = &Comment> + '_ {
        // Past the full chunks altogether: nothing of the tail either.
        let (full, tail) = match self.full.get(start / CHUNK..) {
            Some(full) => (full, self.tail.as_slice()),
            None => (&[][..], &[][..]),
        };
        full.iter()
            .flat_map(|chunk| chunk.iter())
            .chain(tail.iter())
            .skip(start % CHUNK)
    }

    pub fn last(&self) -> Option<&Comment> {
        self.tail
            .last()
            .or_else(|| self.full.last().and_then(|chunk| chunk.last()))
    }
}

impl PartialEq for Comments {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}

impl Eq for Comments {}

impl std::fmt::Debug for Comments {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl FromIterator<Comment> for Comments {
    fn from_iter<I: IntoIterator<Item = Comment>>(items: I) -> Self {
        let mut comments = Comments::new();
        for c in items {
            comments.push(c);
        }
        comments
    }
}

impl From<Vec<Comment>> for Comments {
    fn from(items: Vec<Comment>) -> Self {
        items.into_iter().collect()
    }
}

impl<'a> IntoIterator for &'a Comments {
    type Item = &'a Comment;
    type IntoIter = Box<dyn Iterator<Item = &'a Comment> + 'a>;

    fn into_iter(self) -> Self::IntoIter {
        Box::new(self.iter())
    }
}

/// The same JSON as a `Vec<Comment>`: an array, oldest first.
impl Serialize for Comments {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.iter())
    }
}

impl<'de> Deserialize<'de> for Comments {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Vec::<Comment>::deserialize(deserializer).map(Comments::from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};
    use uuid::Uuid;

    fn comment(i: usize) -> Comment {
        Comment {
            id: Uuid::from_u128(i as u128),
            author: "ana".into(),
            body: format!("comment {i}"),
            at: Utc.timestamp_opt(1_795_000_000 + i as i64, 0).unwrap(),
        }
    }

    #[test]
    fn behaves_as_the_vec_it_replaces_at_every_length() {
        let mut vec = Vec::new();
        let mut comments = Comments::new();
        for i in 0..(3 * CHUNK + 5) {
            assert_eq!(comments.len(), vec.len());
            assert_eq!(comments.is_empty(), vec.is_empty());
            assert!(comments.iter().eq(vec.iter()));
            assert_eq!(comments.last(), vec.last());
            for start in 0..=vec.len() + 1 {
                assert!(
                    comments.since(start).eq(vec.iter().skip(start)),
                    "since({start}) of {}",
                    vec.len()
                );
            }
            assert_eq!(
                serde_json::to_value(&comments).expect("json"),
                serde_json::to_value(&vec).expect("json")
            );
            let back: Comments =
                serde_json::from_value(serde_json::to_value(&vec).expect("json")).expect("back");
            assert_eq!(back, comments);
            vec.push(comment(i));
            comments.push(comment(i));
        }
    }

    #[test]
    fn a_clone_shares_full_chunks_and_grows_on_its_own() {
        let mut original: Comments = (0..2 * CHUNK + 3).map(comment).collect();
        let mut copy = original.clone();
        assert!(Arc::ptr_eq(&original.full, &copy.full));
        copy.push(comment(1000));
        original.push(comment(2000));
        assert_eq!(copy.len(), original.len());
        assert_eq!(copy.last().map(|c| c.body.as_str()), Some("comment 1000"));
        assert_eq!(
            original.last().map(|c| c.body.as_str()),
            Some("comment 2000")
        );
        assert!(copy
            .iter()
            .take(2 * CHUNK + 3)
            .eq(original.iter().take(2 * CHUNK + 3)));
    }
}
