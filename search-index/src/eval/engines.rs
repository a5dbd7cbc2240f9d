//! The engines under evaluation: the product's search with a ranking, the product's matching, and
//! bare BM25 baselines with a choice of analyzers; and the standard list `techmarket eval` compares.

use jieba_rs::TokenizeMode;
use tantivy::tokenizer::{TextAnalyzer, TokenizerManager};

use crate::Ranking;
use crate::analyzers;

/// An engine under evaluation.
#[derive(Debug, Clone)]
pub enum Engine {
    /// The product's index and query code with this ranking.
    Product(Ranking),
    /// The product's matching (`/results/{id}/matches`): the paper's title and abstract as the
    /// source listing in the neighbours task, its title alone in the known-item task.
    Matching,
    /// Plain BM25 over title and abstract in one field, the query analyzed by the same analyzers;
    /// with several analyzers, each gets its own field and the query any of them.
    Bare(Vec<BareAnalyzer>),
}

/// Analyzers of the bare baselines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BareAnalyzer {
    /// tantivy's `default` tokenizer (splits on non-alphanumerics: a Chinese run is one token).
    TantivyDefault,
    /// Overlapping Han character bigrams.
    Bigram,
    /// jieba precise mode with the domain dictionary.
    JiebaPrecise,
    /// jieba search mode with the domain dictionary (the product's analyzer).
    JiebaSearch,
    /// jieba search mode, built-in dictionary only.
    JiebaSearchNoUserDict,
    /// jieba search mode with the domain dictionary and without HMM word guessing.
    JiebaSearchNoHmm,
}

impl BareAnalyzer {
    /// The analyzer, ready to register on an index.
    pub(super) fn analyzer(self) -> TextAnalyzer {
        let registered = |name: &str| {
            let manager = TokenizerManager::default();
            analyzers::register_analyzers(&manager);
            manager.get(name)
        };
        let fallback = || TokenizerManager::default().get("default");
        let analyzer = match self {
            Self::TantivyDefault => fallback(),
            Self::Bigram => registered(analyzers::CJK_BIGRAM),
            Self::JiebaPrecise => registered(analyzers::CHINESE_PRECISE),
            Self::JiebaSearch => registered(analyzers::CHINESE_SEARCH),
            Self::JiebaSearchNoUserDict => Some(analyzers::jieba_analyzer(
                analyzers::plain_jieba(),
                TokenizeMode::Search,
                true,
            )),
            Self::JiebaSearchNoHmm => Some(analyzers::jieba_analyzer(
                analyzers::domain_jieba(),
                TokenizeMode::Search,
                false,
            )),
        };
        analyzer.unwrap_or_else(|| TextAnalyzer::from(tantivy::tokenizer::RawTokenizer::default()))
    }

    fn name(self) -> &'static str {
        match self {
            Self::TantivyDefault => "tantivy default",
            Self::Bigram => "char bigrams",
            Self::JiebaPrecise => "jieba precise",
            Self::JiebaSearch => "jieba search",
            Self::JiebaSearchNoUserDict => "jieba search, no user dict",
            Self::JiebaSearchNoHmm => "jieba search, no HMM",
        }
    }
}

impl Engine {
    /// A short description for the report.
    pub fn describe(&self) -> String {
        match self {
            Self::Product(r) => format!(
                "product: title {} / keywords {} / text {} / bigrams {} / org {}, synonyms {}, proximity {}, parts {}, typos {}, common words above {}% and {} listings",
                r.title,
                r.keywords,
                r.text,
                r.bigram,
                r.org_name,
                if r.synonyms { "on" } else { "off" },
                r.proximity,
                r.parts,
                r.typos,
                r.common_share * 100.0,
                r.common_min_docs
            ),
            Self::Matching => "product matching: title + abstract as the source listing".into(),
            Self::Bare(analyzers) => format!(
                "bare BM25: {}",
                analyzers
                    .iter()
                    .map(|a| a.name())
                    .collect::<Vec<_>>()
                    .join(" + ")
            ),
        }
    }
}

/// The engines `techmarket eval` compares: the baselines, the analyzer choices, and the product's
/// ranking with each of its choices turned off or changed in turn.
pub fn standard_engines() -> Vec<Engine> {
    let product = Ranking::default();
    let mut engines = vec![
        Engine::Bare(vec![BareAnalyzer::TantivyDefault]),
        Engine::Bare(vec![BareAnalyzer::Bigram]),
        Engine::Bare(vec![BareAnalyzer::JiebaPrecise]),
        Engine::Bare(vec![BareAnalyzer::JiebaSearchNoUserDict]),
        Engine::Bare(vec![BareAnalyzer::JiebaSearchNoHmm]),
        Engine::Bare(vec![BareAnalyzer::JiebaSearch]),
        Engine::Bare(vec![BareAnalyzer::JiebaSearch, BareAnalyzer::Bigram]),
        Engine::Product(product),
        Engine::Matching,
    ];
    for variant in [
        Ranking {
            synonyms: !product.synonyms,
            ..product
        },
        Ranking {
            title: 0.0,
            keywords: 0.0,
            org_name: 0.0,
            ..product
        },
        Ranking {
            title: 1.0,
            ..product
        },
        Ranking {
            title: 0.5,
            ..product
        },
        Ranking {
            bigram: 1.0,
            ..product
        },
        Ranking {
            bigram: 0.5,
            ..product
        },
        Ranking {
            bigram: 0.0,
            ..product
        },
        Ranking {
            proximity: 2.0,
            ..product
        },
        Ranking {
            parts: 1.0,
            ..product
        },
        Ranking {
            parts: 0.1,
            ..product
        },
        Ranking {
            parts: 0.3,
            ..product
        },
        Ranking {
            parts: 0.5,
            ..product
        },
        Ranking {
            typos: 0.0,
            ..product
        },
        Ranking {
            typos: 1.0,
            ..product
        },
        Ranking {
            title: 0.5,
            bigram: 1.0,
            ..product
        },
        Ranking {
            title: 0.0,
            bigram: 1.0,
            ..product
        },
        Ranking {
            title: 0.5,
            bigram: 2.0,
            ..product
        },
        // The common-word rule applies from 10,000 listings on; here it is forced on, to see
        // what it costs in quality where it matters for speed.
        Ranking {
            common_min_docs: 0,
            ..product
        },
        Ranking {
            common_min_docs: 0,
            common_share: 0.05,
            ..product
        },
    ] {
        if variant != product {
            engines.push(Engine::Product(variant));
        }
    }
    engines
}
