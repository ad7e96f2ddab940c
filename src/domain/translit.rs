//! Serbian Cyrillic → Latin transliteration and the folding used for sort keys.
//!
//! Cyrillic → Latin is exact (one letter, one letter or digraph); the reverse
//! is ambiguous (`nj` may be `њ` or `нј`), so arkiv never derives Cyrillic.

/// Returns the Latin spelling of a Serbian Cyrillic letter, if it is one.
fn latin_of(letter: char) -> Option<&'static str> {
    Some(match letter {
        'а' => "a",
        'б' => "b",
        'в' => "v",
        'г' => "g",
        'д' => "d",
        'ђ' => "đ",
        'е' => "e",
        'ж' => "ž",
        'з' => "z",
        'и' => "i",
        'ј' => "j",
        'к' => "k",
        'л' => "l",
        'љ' => "lj",
        'м' => "m",
        'н' => "n",
        'њ' => "nj",
        'о' => "o",
        'п' => "p",
        'р' => "r",
        'с' => "s",
        'т' => "t",
        'ћ' => "ć",
        'у' => "u",
        'ф' => "f",
        'х' => "h",
        'ц' => "c",
        'ч' => "č",
        'џ' => "dž",
        'ш' => "š",
        'А' => "A",
        'Б' => "B",
        'В' => "V",
        'Г' => "G",
        'Д' => "D",
        'Ђ' => "Đ",
        'Е' => "E",
        'Ж' => "Ž",
        'З' => "Z",
        'И' => "I",
        'Ј' => "J",
        'К' => "K",
        'Л' => "L",
        'Љ' => "Lj",
        'М' => "M",
        'Н' => "N",
        'Њ' => "Nj",
        'О' => "O",
        'П' => "P",
        'Р' => "R",
        'С' => "S",
        'Т' => "T",
        'Ћ' => "Ć",
        'У' => "U",
        'Ф' => "F",
        'Х' => "H",
        'Ц' => "C",
        'Ч' => "Č",
        'Џ' => "Dž",
        'Ш' => "Š",
        _ => return None,
    })
}

/// Returns true when the text holds at least one Serbian Cyrillic letter.
pub fn has_cyrillic(text: &str) -> bool {
    text.chars().any(|c| latin_of(c).is_some())
}

/// Transliterates Serbian Cyrillic to Latin, leaving every other character
/// as it is. A capital digraph letter next to another capital is written in
/// capitals (`ЉУБОВ` → `LJUBOV`), otherwise in title case (`Љубов` → `Ljubov`).
pub fn cyrillic_to_latin(text: &str) -> String {
    if !has_cyrillic(text) {
        return text.to_owned();
    }
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    for (i, &c) in chars.iter().enumerate() {
        let Some(latin) = latin_of(c) else {
            out.push(c);
            continue;
        };
        let is_capital_digraph = latin.len() > 1 && c.is_uppercase() && latin.chars().count() == 2;
        let neighbour_is_capital = |j: Option<usize>| {
            j.and_then(|j| chars.get(j))
                .is_some_and(|n| n.is_uppercase())
        };
        if is_capital_digraph
            && (neighbour_is_capital(i.checked_add(1)) || neighbour_is_capital(i.checked_sub(1)))
        {
            out.extend(latin.chars().flat_map(char::to_uppercase));
        } else {
            out.push_str(latin);
        }
    }
    out
}

/// Returns a key for sorting titles across scripts and diacritics: Latin,
/// lowercase, with `č ć š ž đ ë ç` folded to their base letters.
pub fn sort_key(title: &str) -> String {
    cyrillic_to_latin(title)
        .chars()
        .flat_map(char::to_lowercase)
        .map(|c| match c {
            'č' | 'ć' | 'ç' => 'c',
            'š' => 's',
            'ž' => 'z',
            'đ' => 'd',
            'ë' | 'é' | 'è' => 'e',
            other => other,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transliterates_letters_and_digraphs() {
        assert_eq!(cyrillic_to_latin("Приштина"), "Priština");
        assert_eq!(cyrillic_to_latin("Љубљана и Њујорк"), "Ljubljana i Njujork");
        assert_eq!(cyrillic_to_latin("ЉУБЉАНА"), "LJUBLJANA");
        assert_eq!(cyrillic_to_latin("Џ"), "Dž");
        assert_eq!(cyrillic_to_latin("Ђорђе, 2024."), "Đorđe, 2024.");
        assert_eq!(cyrillic_to_latin("already Latin"), "already Latin");
    }

    #[test]
    fn sort_keys_meet_across_scripts_and_diacritics() {
        assert_eq!(sort_key("Приштина"), sort_key("Pristina"));
        assert_eq!(sort_key("Përfundimet"), "perfundimet");
    }
}
