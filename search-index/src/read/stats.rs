//! The statistics of one search's terms, each looked up once.
//!
//! A search asks how many listings hold each of its terms several times: to tell common words from
//! rare ones, to drop terms no listing has, then for the BM25 weight of every clause in which the
//! term appears (the same word is a clause of the title, the keywords and the full text). Each ask
//! walks the term dictionary of every segment; asked through [`TermStats`], only the first does.

use std::cell::RefCell;
use std::collections::HashMap;

use tantivy::query::Bm25StatisticsProvider;
use tantivy::schema::Field;
use tantivy::{Searcher, Term};

/// The statistics of a searcher, remembered term by term for the length of one search.
pub(crate) struct TermStats<'s> {
    searcher: &'s Searcher,
    doc_freqs: RefCell<HashMap<Term, u64>>,
}

impl<'s> TermStats<'s> {
    /// Statistics of `searcher`.
    pub(crate) fn new(searcher: &'s Searcher) -> Self {
        Self {
            searcher,
            doc_freqs: RefCell::default(),
        }
    }

    /// The number of listings.
    pub(crate) fn num_docs(&self) -> u64 {
        self.searcher.num_docs()
    }

    /// How many listings hold `text` in `field` (none when the index cannot say).
    pub(crate) fn doc_freq_of(&self, field: Field, text: &str) -> u64 {
        self.doc_freq(&Term::from_field_text(field, text))
            .unwrap_or(0)
    }
}

impl Bm25StatisticsProvider for TermStats<'_> {
    fn total_num_tokens(&self, field: Field) -> tantivy::Result<u64> {
        self.searcher.total_num_tokens(field)
    }

    fn total_num_docs(&self) -> tantivy::Result<u64> {
        self.searcher.total_num_docs()
    }

    fn doc_freq(&self, term: &Term) -> tantivy::Result<u64> {
        if let Some(&n) = self.doc_freqs.borrow().get(term) {
            return Ok(n);
        }
        let n = self.searcher.doc_freq(term)?;
        self.doc_freqs.borrow_mut().insert(term.clone(), n);
        Ok(n)
    }
}
