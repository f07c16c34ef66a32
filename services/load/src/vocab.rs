//! Message bodies that read like chat: words drawn from a vocabulary (`words.txt`, most frequent
//! first, with accented words among them) with Zipf-like frequencies, as in natural language:
//! the word of rank r is drawn with probability proportional to 1 / r^s. A search over such
//! bodies behaves as it would over real ones: a few words are everywhere, most are rare.

use rand::Rng;

/// The vocabulary, one word per line, roughly from most to least frequent.
const WORDS: &str = include_str!("words.txt");

/// Zipf's exponent for English text.
pub const ZIPF_EXPONENT: f64 = 1.07;

pub struct Vocabulary {
    words: Vec<&'static str>,
    /// Cumulative probability of ranks 0..=i.
    cdf: Vec<f64>,
}

impl Default for Vocabulary {
    fn default() -> Self {
        Self::new(ZIPF_EXPONENT)
    }
}

impl Vocabulary {
    pub fn new(exponent: f64) -> Self {
        let words: Vec<&'static str> = WORDS.lines().map(str::trim).filter(|w| !w.is_empty()).collect();
        let weights: Vec<f64> = (1..=words.len()).map(|rank| (rank as f64).powf(-exponent)).collect();
        let total: f64 = weights.iter().sum();
        let cdf = weights
            .iter()
            .scan(0.0, |acc, w| {
                *acc += w / total;
                Some(*acc)
            })
            .collect();
        Self { words, cdf }
    }

    pub fn len(&self) -> usize {
        self.words.len()
    }

    pub fn is_empty(&self) -> bool {
        self.words.is_empty()
    }

    /// The word of `rank` (0 is the most frequent).
    pub fn at(&self, rank: usize) -> &'static str {
        self.words[rank.min(self.words.len() - 1)]
    }

    /// The rank of a word drawn at random with Zipf's frequencies.
    pub fn draw_rank(&self, rng: &mut impl Rng) -> usize {
        let u: f64 = rng.random();
        self.cdf.partition_point(|&c| c < u).min(self.words.len() - 1)
    }

    pub fn word(&self, rng: &mut impl Rng) -> &'static str {
        self.at(self.draw_rank(rng))
    }

    /// A chat message of 2 to 24 words (short ones most often), capitalized and punctuated.
    pub fn sentence(&self, rng: &mut impl Rng) -> String {
        let count = 2 + (rng.random::<f64>().powi(2) * 23.0) as usize;
        let mut text = String::with_capacity(count * 7);
        for i in 0..count {
            let word = self.word(rng);
            if i == 0 {
                let mut chars = word.chars();
                if let Some(first) = chars.next() {
                    text.extend(first.to_uppercase());
                    text.push_str(chars.as_str());
                }
            } else {
                text.push(' ');
                text.push_str(word);
            }
        }
        text.push(['.', '.', '.', '?', '!'][rng.random_range(0..5)]);
        text
    }
}

/// `word` without its accents, as someone typing on a plain keyboard would search for it.
pub fn unaccented(word: &str) -> String {
    let mut plain = String::with_capacity(word.len());
    for c in word.chars() {
        let replacement = match c {
            'à' | 'á' | 'â' | 'ä' | 'å' | 'ã' => "a",
            'æ' => "ae",
            'ç' | 'č' => "c",
            'è' | 'é' | 'ê' | 'ë' => "e",
            'ì' | 'í' | 'î' | 'ï' => "i",
            'ñ' | 'ń' => "n",
            'ò' | 'ó' | 'ô' | 'ö' | 'õ' | 'ø' => "o",
            'ù' | 'ú' | 'û' | 'ü' => "u",
            'ř' => "r",
            'ł' => "l",
            'ß' => "ss",
            'þ' => "th",
            _ => {
                plain.push(c);
                continue;
            }
        };
        plain.push_str(replacement);
    }
    plain
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    #[test]
    fn frequencies_fall_with_rank_as_zipf_says() {
        let vocab = Vocabulary::default();
        let mut rng = StdRng::seed_from_u64(7);
        let mut counts = vec![0u32; vocab.len()];
        for _ in 0..400_000 {
            counts[vocab.draw_rank(&mut rng)] += 1;
        }
        // Rank 1 vs rank 10: 10^1.07 ≈ 11.7 times as frequent.
        let ratio = f64::from(counts[0]) / f64::from(counts[9]);
        assert!((9.0..15.0).contains(&ratio), "rank 1 / rank 10 = {ratio}");
        assert!(counts[9] > counts[99] && counts[99] > 0, "{} {}", counts[9], counts[99]);
        assert!(counts.iter().all(|&c| c > 0), "every word is drawn now and then");
    }

    #[test]
    fn the_vocabulary_has_accented_words_and_no_duplicates() {
        let vocab = Vocabulary::default();
        let accented = vocab.words.iter().filter(|w| !w.is_ascii()).count();
        assert!(accented >= 50, "{accented} accented words");
        let mut sorted = vocab.words.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), vocab.len());
    }

    #[test]
    fn sentences_are_capitalized_and_within_the_body_limit() {
        let vocab = Vocabulary::default();
        let mut rng = StdRng::seed_from_u64(1);
        for _ in 0..1000 {
            let s = vocab.sentence(&mut rng);
            assert!(s.chars().count() <= 4000);
            assert!(s.split(' ').count() >= 2);
            assert!(!s.starts_with(char::is_lowercase), "{s}");
        }
    }

    #[test]
    fn accents_are_removed_as_a_plain_keyboard_types_them() {
        assert_eq!(unaccented("crème brûlée"), "creme brulee");
        assert_eq!(unaccented("straße"), "strasse");
        assert_eq!(unaccented("smörgåsbord"), "smorgasbord");
        assert_eq!(unaccented("þór"), "thor");
        assert_eq!(unaccented("plain"), "plain");
    }
}
