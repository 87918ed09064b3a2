//! Tokens of a spec `compute` string. Columns are 1-based character positions.

use colt_ir::CmpOp;

#[derive(Clone, Debug, PartialEq)]
pub enum Tok {
    Ident(String),
    /// A numeric literal; `single` is the text rounded once to f32 (not through f64), `int`
    /// is set when it was written without `.` or exponent and fits i64.
    Num {
        value: f64,
        single: f32,
        int: Option<i64>,
    },
    LBracket,
    RBracket,
    LParen,
    RParen,
    Comma,
    Plus,
    Minus,
    Star,
    Slash,
    Assign,
    PlusAssign,
    /// A comparison: `<`, `<=`, `>`, `>=`, `==` or `!=`.
    Cmp(CmpOp),
    /// `&&`.
    And,
    Eof,
}

impl Tok {
    pub fn describe(&self) -> String {
        match self {
            Tok::Ident(s) => format!("\"{s}\""),
            Tok::Num { .. } => "a number".into(),
            Tok::LBracket => "'['".into(),
            Tok::RBracket => "']'".into(),
            Tok::LParen => "'('".into(),
            Tok::RParen => "')'".into(),
            Tok::Comma => "','".into(),
            Tok::Plus => "'+'".into(),
            Tok::Minus => "'-'".into(),
            Tok::Star => "'*'".into(),
            Tok::Slash => "'/'".into(),
            Tok::Assign => "'='".into(),
            Tok::PlusAssign => "'+='".into(),
            Tok::Cmp(c) => format!("'{}'", c.symbol()),
            Tok::And => "'&&'".into(),
            Tok::Eof => "the end of the expression".into(),
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Token {
    pub tok: Tok,
    pub col: usize,
}

/// Split `src` into tokens, ending with [`Tok::Eof`]. Errors are `(column, message)`.
pub fn lex(src: &str) -> Result<Vec<Token>, (usize, String)> {
    let chars: Vec<char> = src.chars().collect();
    let mut out = vec![];
    let mut i = 0;
    while i < chars.len() {
        let ch = chars[i];
        let col = i + 1;
        if ch.is_whitespace() {
            i += 1;
            continue;
        }
        let (tok, end) = if ch.is_ascii_alphabetic() || ch == '_' {
            let start = i;
            let mut end = i;
            while end < chars.len() && (chars[end].is_ascii_alphanumeric() || chars[end] == '_') {
                end += 1;
            }
            (Tok::Ident(chars[start..end].iter().collect()), end)
        } else if ch.is_ascii_digit()
            || (ch == '.' && chars.get(i + 1).is_some_and(|c| c.is_ascii_digit()))
        {
            lex_number(&chars, i)?
        } else {
            lex_punct(&chars, i)?
        };
        i = end;
        out.push(Token { tok, col });
    }
    out.push(Token {
        tok: Tok::Eof,
        col: chars.len() + 1,
    });
    Ok(out)
}

/// The number starting at `chars[start]`, and the index just past it.
fn lex_number(chars: &[char], start: usize) -> Result<(Tok, usize), (usize, String)> {
    let col = start + 1;
    let mut i = start;
    let mut is_int = true;
    while i < chars.len() && chars[i].is_ascii_digit() {
        i += 1;
    }
    if i < chars.len() && chars[i] == '.' {
        is_int = false;
        i += 1;
        while i < chars.len() && chars[i].is_ascii_digit() {
            i += 1;
        }
    }
    if i < chars.len() && (chars[i] == 'e' || chars[i] == 'E') {
        let mut j = i + 1;
        if j < chars.len() && (chars[j] == '+' || chars[j] == '-') {
            j += 1;
        }
        if j < chars.len() && chars[j].is_ascii_digit() {
            is_int = false;
            i = j;
            while i < chars.len() && chars[i].is_ascii_digit() {
                i += 1;
            }
        }
    }
    if i < chars.len() && (chars[i].is_ascii_alphabetic() || chars[i] == '_') {
        return Err((i + 1, format!("unexpected '{}' after a number", chars[i])));
    }
    let text: String = chars[start..i].iter().collect();
    let malformed = |_| (col, format!("malformed number \"{text}\""));
    let value: f64 = text.parse().map_err(malformed)?;
    let single: f32 = text.parse().map_err(malformed)?;
    let int = if is_int {
        text.parse::<i64>().ok()
    } else {
        None
    };
    Ok((Tok::Num { value, single, int }, i))
}

/// The punctuation or operator at `chars[i]`, and the index just past it.
fn lex_punct(chars: &[char], i: usize) -> Result<(Tok, usize), (usize, String)> {
    let ch = chars[i];
    let next = chars.get(i + 1).copied();
    let two = |tok| Ok((tok, i + 2));
    match (ch, next) {
        ('<', Some('=')) => return two(Tok::Cmp(CmpOp::Le)),
        ('>', Some('=')) => return two(Tok::Cmp(CmpOp::Ge)),
        ('=', Some('=')) => return two(Tok::Cmp(CmpOp::Eq)),
        ('!', Some('=')) => return two(Tok::Cmp(CmpOp::Ne)),
        ('&', Some('&')) => return two(Tok::And),
        ('+', Some('=')) => return two(Tok::PlusAssign),
        _ => {}
    }
    let tok = match ch {
        '<' => Tok::Cmp(CmpOp::Lt),
        '>' => Tok::Cmp(CmpOp::Gt),
        '[' => Tok::LBracket,
        ']' => Tok::RBracket,
        '(' => Tok::LParen,
        ')' => Tok::RParen,
        ',' => Tok::Comma,
        '-' => Tok::Minus,
        '*' => Tok::Star,
        '/' => Tok::Slash,
        '+' => Tok::Plus,
        '=' => Tok::Assign,
        _ => {
            let shown = if ch.is_control() {
                format!("{:?}", ch)
            } else {
                format!("'{ch}'")
            };
            return Err((i + 1, format!("unexpected character {shown}")));
        }
    };
    Ok((tok, i + 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lexes_a_statement() {
        let toks = lex("C[i, j] += 2.5*A[i,k]").unwrap();
        let kinds: Vec<Tok> = toks.into_iter().map(|t| t.tok).collect();
        assert_eq!(kinds[0], Tok::Ident("C".into()));
        assert_eq!(kinds[6], Tok::PlusAssign);
        assert_eq!(
            kinds[7],
            Tok::Num {
                value: 2.5,
                single: 2.5,
                int: None
            }
        );
        assert_eq!(*kinds.last().unwrap(), Tok::Eof);
    }

    #[test]
    fn lexes_comparisons() {
        let toks = lex("a<b<=c>d>=e==f!=g&&h = i").unwrap();
        let ops: Vec<Tok> = toks
            .into_iter()
            .map(|t| t.tok)
            .filter(|t| !matches!(t, Tok::Ident(_)))
            .collect();
        use CmpOp::*;
        let want = [Lt, Le, Gt, Ge, Eq, Ne].map(Tok::Cmp);
        assert_eq!(ops[..6], want);
        assert_eq!(ops[6..], [Tok::And, Tok::Assign, Tok::Eof]);
        assert_eq!(lex("a & b").unwrap_err().0, 3);
        assert_eq!(lex("a ! b").unwrap_err().0, 3);
    }

    #[test]
    fn numbers_round_once_to_f32() {
        // 1 + 2^-24 + 2^-60: through f64 it rounds to the f32 tie 1 + 2^-24 and then to
        // even (1.0); rounded once it is above the tie (the next f32 up).
        let text = "1.000000059604644776257986737988403547205962240695953369140625";
        let Tok::Num { single, value, .. } = &lex(text).unwrap()[0].tok else {
            panic!()
        };
        assert_eq!(*value as f32, 1.0);
        assert_eq!(*single, 1.0 + f32::EPSILON);
    }

    #[test]
    fn reports_column() {
        assert_eq!(
            lex("C[i] = A[i] $ 1").unwrap_err(),
            (13, "unexpected character '$'".into())
        );
    }
}
