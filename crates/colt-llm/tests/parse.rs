//! The answer parser: forgiving about syntax (fences, trailing commas, prose, quotes,
//! near-miss names), strict about names, and never panicking on any input.

mod support;

use colt_llm::{AnswerError, JointAction, parse_answer};
use proptest::prelude::*;
use serde_json::json;
use support::vocab;

fn models() -> Vec<String> {
    vec!["gemma-3-270m".into(), "qwen3-8b".into(), "gpt-5".into()]
}

fn parse(text: &str) -> Result<JointAction, AnswerError> {
    parse_answer(text, &vocab(), &models(), 3)
}

fn ok(text: &str) -> serde_json::Value {
    parse(text)
        .unwrap_or_else(|e| panic!("{e}: {text}"))
        .to_json()
}

const CANON: &str = r#"{"transformations": [{"action": "tile_spatial", "loop": "i", "inner": 32}, {"action": "vectorize"}], "next_model": "qwen3-8b"}"#;

fn canon() -> serde_json::Value {
    serde_json::from_str(CANON).unwrap()
}

#[test]
fn plain_json() {
    assert_eq!(ok(CANON), canon());
}

#[test]
fn code_fence_and_prose_around_it() {
    assert_eq!(ok(&format!("```json\n{CANON}\n```")), canon());
    assert_eq!(
        ok(&format!(
            "Looking at the loop nest, tiling i helps.\n\n```\n{CANON}\n```\nThat's my answer."
        )),
        canon()
    );
    assert_eq!(
        ok(&format!("Answer: {CANON} -- hope that's {{useful}}")),
        canon()
    );
}

#[test]
fn trailing_commas_single_quotes_bare_words_and_comments() {
    let t = r#"{"transformations": [{"action": "tile_spatial", "loop": "i", "inner": 32,}, {"action": "vectorize",},], "next_model": "qwen3-8b",}"#;
    assert_eq!(ok(t), canon());
    let t = "{'transformations': [{'action': 'tile_spatial', 'loop': 'i', 'inner': 32}, {'action': 'vectorize'}], 'next_model': 'qwen3-8b'}";
    assert_eq!(ok(t), canon());
    let t = "{transformations: [{action: tile_spatial, loop: i, inner: 32}, {action: vectorize}], next_model: qwen3-8b}";
    assert_eq!(ok(t), canon());
    let t = "{\"transformations\": [ // first tile\n {\"action\": \"tile_spatial\", \"loop\": \"i\", \"inner\": 32}, {\"action\": \"vectorize\"}], \"next_model\": \"qwen3-8b\"}";
    assert_eq!(ok(t), canon());
}

#[test]
fn near_miss_names_are_resolved() {
    let t = r#"{"Transformations": [{"Action": "Tile-Spatial", "LOOP": "I", "inner": "32"}, {"action": "VECTORIZE"}], "nextModel": "Qwen3_8B"}"#;
    assert_eq!(ok(t), canon());
    let t = r#"{"transformations": [{"action": "TileSpatial", "loop": "i", "inner": 32.0}, {"action": "vectorize"}], "next model": "qwen3 8b"}"#;
    assert_eq!(ok(t), canon());
    // A bare name for an action without parameters, a lone object instead of a list.
    assert_eq!(
        ok(r#"{"transformations": ["vectorize"], "next_model": "gpt-5"}"#),
        json!({"transformations": [{"action": "vectorize"}], "next_model": "gpt-5"})
    );
    assert_eq!(
        ok(r#"{"transformations": {"action": "parallel", "fuse": 2}, "next_model": "gpt-5"}"#),
        json!({"transformations": [{"action": "parallel", "fuse": 2}], "next_model": "gpt-5"})
    );
    // Wrapped in another object.
    assert_eq!(ok(&format!(r#"{{"answer": {CANON}}}"#)), canon());
}

#[test]
fn unknown_names_are_never_accepted() {
    let e = parse(r#"{"transformations": [{"action": "tile_everything"}], "next_model": "gpt-5"}"#)
        .unwrap_err();
    assert_eq!(
        e,
        AnswerError::UnknownAction {
            name: "tile_everything".into()
        }
    );
    // Close, but not a near miss: a different word.
    let e = parse(r#"{"transformations": [{"action": "tile_spatials", "loop": "i", "inner": 32}], "next_model": "gpt-5"}"#).unwrap_err();
    assert!(matches!(e, AnswerError::UnknownAction { .. }), "{e:?}");
    let e = parse(r#"{"transformations": [{"action": "vectorize"}], "next_model": "gpt-4"}"#)
        .unwrap_err();
    assert_eq!(
        e,
        AnswerError::UnknownModel {
            name: "gpt-4".into()
        }
    );
    let e = parse(
        r#"{"transformations": [{"action": "vectorize"}], "next_model": "qwen3-8b-instruct"}"#,
    )
    .unwrap_err();
    assert!(matches!(e, AnswerError::UnknownModel { .. }));
    // Unknown parameter, value outside the choices, missing parameter.
    let e = parse(r#"{"transformations": [{"action": "parallel", "fuse": 2, "threads": 8}], "next_model": "gpt-5"}"#).unwrap_err();
    assert!(
        matches!(&e, AnswerError::BadParam { param, .. } if param == "threads"),
        "{e:?}"
    );
    let e =
        parse(r#"{"transformations": [{"action": "parallel", "fuse": 3}], "next_model": "gpt-5"}"#)
            .unwrap_err();
    assert!(
        matches!(&e, AnswerError::BadParam { param, value, .. } if param == "fuse" && value == "3"),
        "{e:?}"
    );
    let e = parse(
        r#"{"transformations": [{"action": "parallel", "fuse": 1.5}], "next_model": "gpt-5"}"#,
    )
    .unwrap_err();
    assert!(matches!(e, AnswerError::BadParam { .. }), "{e:?}");
    let e = parse(
        r#"{"transformations": [{"action": "tile_spatial", "loop": "i"}], "next_model": "gpt-5"}"#,
    )
    .unwrap_err();
    assert!(
        matches!(&e, AnswerError::BadParam { param, value, .. } if param == "inner" && value == "<missing>"),
        "{e:?}"
    );
    // A bare name for an action that needs parameters.
    let e = parse(r#"{"transformations": ["parallel"], "next_model": "gpt-5"}"#).unwrap_err();
    assert!(matches!(e, AnswerError::BadParam { .. }), "{e:?}");
}

#[test]
fn ambiguous_near_misses_are_refused() {
    let v = colt_llm::Vocabulary::new(vec![
        colt_llm::ActionSpec::new("tile_a", ""),
        colt_llm::ActionSpec::new("tile-a", ""),
    ]);
    let m = vec!["x".to_string()];
    // Exact names still work; the near miss matches both and is refused.
    assert!(
        parse_answer(
            r#"{"transformations": ["tile-a"], "next_model": "x"}"#,
            &v,
            &m,
            1
        )
        .is_ok()
    );
    let e = parse_answer(
        r#"{"transformations": ["TILE A"], "next_model": "x"}"#,
        &v,
        &m,
        1,
    )
    .unwrap_err();
    assert!(matches!(e, AnswerError::UnknownAction { .. }), "{e:?}");
}

#[test]
fn shape_errors() {
    assert_eq!(
        parse("I suggest tiling the i loop by 32."),
        Err(AnswerError::NoJson)
    );
    assert_eq!(parse(""), Err(AnswerError::NoJson));
    assert_eq!(
        parse(r#"{"transformations": [{"action": "vectorize"}], "next_mo"#),
        Err(AnswerError::Truncated)
    );
    assert!(matches!(
        parse(r#"{"actions": ["vectorize"]}"#),
        Err(AnswerError::BadShape { .. })
    ));
    assert!(matches!(
        parse(r#"{"transformations": [], "next_model": "gpt-5"}"#),
        Err(AnswerError::BadShape { .. })
    ));
    assert!(matches!(
        parse(r#"{"transformations": ["vectorize"]}"#),
        Err(AnswerError::BadShape { .. })
    ));
    let four = r#"{"transformations": ["vectorize", "vectorize", "vectorize", "vectorize"], "next_model": "gpt-5"}"#;
    assert!(
        matches!(parse(four), Err(AnswerError::BadShape { detail }) if detail.contains("at most 3"))
    );
    assert!(matches!(
        parse(r#"{"transformations": [7], "next_model": "gpt-5"}"#),
        Err(AnswerError::BadShape { .. })
    ));
    assert!(matches!(
        parse(r#"{"transformations": ["vectorize"], "next_model": 5}"#),
        Err(AnswerError::UnknownModel { .. })
    ));
}

#[test]
fn example_answer_and_schema_agree_with_the_parser() {
    let v = vocab();
    let ex = colt_llm::example_answer(&v, &models());
    assert!(parse(&ex.to_string()).is_ok(), "{ex}");
    let g = colt_llm::gbnf(&v, &models(), 3);
    assert!(g.starts_with("root ::= "), "{g}");
    for name in [
        "\\\"tile_spatial\\\"",
        "\\\"vectorize\\\"",
        "\\\"parallel\\\"",
        "\\\"qwen3-8b\\\"",
        "\"32\"",
    ] {
        assert!(g.contains(name), "{name} missing in\n{g}");
    }
    assert!(g.contains("{0,2}"), "at most 3 transformations: {g}");
}

fn fragment() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("{".to_string()),
        Just("}".to_string()),
        Just("[".to_string()),
        Just("]".to_string()),
        Just(",".to_string()),
        Just(":".to_string()),
        Just("\"".to_string()),
        Just("'".to_string()),
        Just("\\".to_string()),
        Just("```json\n".to_string()),
        Just("\"transformations\"".to_string()),
        Just("\"next_model\"".to_string()),
        Just("\"action\"".to_string()),
        Just("\"tile_spatial\"".to_string()),
        Just("\"gpt-5\"".to_string()),
        Just("TileSpatial".to_string()),
        Just("True".to_string()),
        Just("// c\n".to_string()),
        Just("32".to_string()),
        Just("-1e400".to_string()),
        Just("é∀😀".to_string()),
        "[a-z_ ]{0,6}",
    ]
}

/// The text of a valid answer.
fn arb_answer() -> impl Strategy<Value = String> {
    let t = prop_oneof![
        (
            prop::sample::select(vec!["i", "j"]),
            prop::sample::select(vec![8, 16, 32])
        )
            .prop_map(|(l, n)| json!({"action": "tile_spatial", "loop": l, "inner": n})),
        Just(json!({"action": "vectorize"})),
        prop::sample::select(vec![1, 2]).prop_map(|f| json!({"action": "parallel", "fuse": f})),
    ];
    (
        prop::collection::vec(t, 1..=3),
        prop::sample::select(models()),
    )
        .prop_map(|(ts, m)| {
            // A repeated step is dropped by the parser: valid answers have distinct steps.
            let mut distinct: Vec<serde_json::Value> = Vec::new();
            for t in ts {
                if !distinct.contains(&t) {
                    distinct.push(t);
                }
            }
            json!({"transformations": distinct, "next_model": m}).to_string()
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_text_never_panics(s in any::<String>()) {
        let _ = parse(&s);
    }

    #[test]
    fn json_like_soup_never_panics_and_only_accepts_vocabulary_names(parts in prop::collection::vec(fragment(), 0..40)) {
        let text = parts.concat();
        if let Ok(a) = parse(&text) {
            let v = vocab();
            prop_assert!(models().contains(&a.next_model));
            for t in &a.transformations {
                let spec = v.get(&t.action).expect("action in vocabulary");
                prop_assert_eq!(t.args.len(), spec.params.len());
                for p in &spec.params {
                    prop_assert!(p.choices.contains(&t.args[&p.name]));
                }
            }
        }
    }

    #[test]
    fn valid_answers_round_trip_through_prose_and_fences(text in arb_answer(), pre in "[A-Za-z .,]{0,40}", post in "[A-Za-z .,]{0,40}", fence in any::<bool>()) {
        let want: serde_json::Value = serde_json::from_str(&text).unwrap();
        let wrapped = if fence { format!("{pre}\n```json\n{text}\n```\n{post}") } else { format!("{pre} {text} {post}") };
        let got = parse(&wrapped).map(|a| a.to_json());
        prop_assert_eq!(got, Ok(want));
    }

    #[test]
    fn truncating_a_valid_answer_never_yields_an_answer(text in arb_answer(), cut in 0.0f64..1.0) {
        let n = ((text.len() as f64) * cut) as usize;
        let got = parse(&text[..n]);
        prop_assert!(got.is_err(), "{:?} from {:?}", got, &text[..n]);
    }
}

#[test]
fn action_variants_per_stage_take_the_variant_whose_values_fit() {
    use colt_llm::{ActionSpec, Vocabulary};
    let v = Vocabulary::new(vec![
        ActionSpec::new("unroll", "")
            .param("stage", ["a"])
            .param("step", [16, 64]),
        ActionSpec::new("unroll", "")
            .param("stage", ["b"])
            .param("step", [512]),
    ]);
    let m = vec!["x".to_string()];
    let p = |t: &str| parse_answer(t, &v, &m, 3);
    let ok = p(r#"{"transformations": [{"action": "unroll", "stage": "b", "step": 512}], "next_model": "x"}"#).unwrap();
    assert_eq!(ok.transformations[0].args["stage"], json!("b"));
    // Stage a's value with stage b: no variant fits.
    let bad = p(r#"{"transformations": [{"action": "unroll", "stage": "b", "step": 16}], "next_model": "x"}"#).unwrap_err();
    assert!(matches!(bad, AnswerError::BadParam { .. }), "{bad:?}");
    // The grammar and the schema offer each variant.
    let g = colt_llm::gbnf(&v, &m, 3);
    assert!(
        g.contains("action-0 ::=") && g.contains("action-1 ::="),
        "{g}"
    );
    assert_eq!(
        colt_llm::json_schema(&v, &m, 3)["properties"]["transformations"]["items"]["anyOf"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
}

#[test]
fn an_answer_keeps_its_valid_steps_and_drops_the_invalid_ones() {
    let a = parse(
        r#"{"transformations": [{"action": "tile_spatial", "loop": "i", "inner": 32}, {"action": "warp_drive"}, {"action": "vectorize"}], "next_model": "gpt-5"}"#,
    )
    .unwrap();
    assert_eq!(a.transformations.len(), 2);
    assert_eq!(a.dropped.len(), 1);
    assert!(a.dropped[0].contains("warp_drive"), "{:?}", a.dropped);
    // Nothing valid: refused with the first step's complaint.
    let e = parse(r#"{"transformations": [{"action": "warp_drive"}], "next_model": "gpt-5"}"#)
        .unwrap_err();
    assert_eq!(
        e,
        AnswerError::UnknownAction {
            name: "warp_drive".into()
        }
    );
    // A step repeated verbatim is dropped too.
    let a = parse(r#"{"transformations": [{"action": "vectorize"}, {"action": "vectorize"}], "next_model": "gpt-5"}"#).unwrap();
    assert_eq!((a.transformations.len(), a.dropped.len()), (1, 1));
}
