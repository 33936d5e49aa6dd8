use super::*;

fn positions(pattern: &Pattern, part: Part) -> Vec<usize> {
    pattern
        .beats()
        .iter()
        .enumerate()
        .filter(|(_, b)| b.has(part))
        .map(|(i, _)| i + 1)
        .collect()
}

#[test]
fn lancaran_marks_quarters_eighths_and_sixteenths() {
    let p = Form::Lancaran.pattern();
    assert_eq!(p.len(), 16);
    assert_eq!(positions(&p, Part::Kenong), [4, 8, 12]);
    assert_eq!(positions(&p, Part::Gong), [16]);
    assert_eq!(positions(&p, Part::Kempul), [6, 10, 14]);
    assert_eq!(positions(&p, Part::Wela), [2]);
    assert_eq!(positions(&p, Part::Ketuk), [1, 3, 5, 7, 9, 11, 13, 15]);
}

#[test]
fn ketawang_is_heard_in_halves() {
    let p = Form::Ketawang.pattern();
    assert_eq!(p.len(), 16);
    assert_eq!(positions(&p, Part::Kenong), [8]);
    assert_eq!(positions(&p, Part::Kempul), [12]);
    assert_eq!(positions(&p, Part::Wela), [4]);
    assert_eq!(positions(&p, Part::Kempyang), [1, 3, 5, 7, 9, 11, 13, 15]);
    assert_eq!(positions(&p, Part::Gong), [16]);
}

#[test]
fn ladrang_follows_gamelan_md() {
    let p = Form::Ladrang.pattern();
    assert_eq!(p.len(), 32);
    assert_eq!(
        positions(&p, Part::Kempyang),
        (1..=31).step_by(2).collect::<Vec<_>>()
    );
    assert_eq!(
        positions(&p, Part::Ketuk),
        (2..=30).step_by(4).collect::<Vec<_>>()
    );
    assert_eq!(positions(&p, Part::Wela), [4]);
    assert_eq!(positions(&p, Part::Kenong), [8, 16, 24]);
    assert_eq!(positions(&p, Part::Kempul), [12, 20, 28]);
    assert_eq!(positions(&p, Part::Gong), [32]);
}

#[test]
fn gendhing_has_four_kenongan_and_no_kempul() {
    let p = Form::Gendhing.pattern();
    assert_eq!(p.len(), 64);
    assert_eq!(positions(&p, Part::Kenong), [16, 32, 48]);
    assert_eq!(positions(&p, Part::Gong), [64]);
    assert_eq!(positions(&p, Part::Ketuk).len(), 8);
    assert!(positions(&p, Part::Kempul).is_empty());
}

#[test]
fn bell_is_a_start_stroke_and_a_gong() {
    assert_eq!(Form::Bell.pattern().to_string(), "G");
    assert!(Form::Bell.strikes_at_start());
    assert!(!Form::Lancaran.strikes_at_start());
}

#[test]
fn named_patterns_are_valid_and_round_trip() {
    for form in Form::NAMED {
        let pattern = form.pattern();
        assert_eq!(Pattern::parse(&pattern.to_string()), Ok(pattern.clone()));
        assert_eq!(Form::parse(&form.to_string()), Ok(form.clone()));
    }
    assert_eq!(Form::parse(" Lancaran "), Ok(Form::Lancaran));
}

#[test]
fn custom_patterns_parse_and_print() {
    let form = Form::parse("T W T N T P T N T P T N T P T G").unwrap();
    assert_eq!(form.pattern(), Form::Lancaran.pattern());
    assert_eq!(form.to_string(), "T W T N T P T N T P T N T P T G");
    let combined = Form::parse(". TN . G").unwrap();
    assert_eq!(combined.to_string(), ". TN . G");
    assert_eq!(
        Form::parse("G").unwrap(),
        Form::Custom(Pattern::parse("G").unwrap())
    );
}

#[test]
fn bad_patterns_say_what_is_wrong() {
    assert_eq!(Pattern::parse("  "), Err(PatternError::Empty));
    assert_eq!(Pattern::parse("T N P"), Err(PatternError::NoGong));
    assert_eq!(
        Pattern::parse("T G N G"),
        Err(PatternError::GongNotLast { beat: 2, of: 4 })
    );
    assert_eq!(
        Pattern::parse("T X G"),
        Err(PatternError::UnknownSymbol {
            symbol: 'X',
            beat: 2
        })
    );
    let longest = format!("{}G", "T ".repeat(MAX_BEATS - 1));
    assert_eq!(Pattern::parse(&longest).map(|p| p.len()), Ok(MAX_BEATS));
    let too_long = format!("{}G", "T ".repeat(MAX_BEATS));
    assert_eq!(
        Pattern::parse(&too_long),
        Err(PatternError::TooLong(MAX_BEATS + 1))
    );
    assert_eq!(
        Form::parse("lancarn"),
        Err(FormError::Unknown("lancarn".into()))
    );
    assert_eq!(
        Form::parse("T W x G"),
        Err(FormError::Pattern(PatternError::UnknownSymbol {
            symbol: 'x',
            beat: 3
        }))
    );
}

#[test]
fn kenong_pitch_rises_through_the_cycle() {
    let variants: Vec<u8> = Form::Lancaran
        .pattern()
        .kenong_variants()
        .into_iter()
        .flatten()
        .collect();
    assert_eq!(variants, [1, 2, 4, 6]);
    let ketawang: Vec<u8> = Form::Ketawang
        .pattern()
        .kenong_variants()
        .into_iter()
        .flatten()
        .collect();
    assert_eq!(ketawang, [1, 6]);
    let bell: Vec<u8> = Form::Bell
        .pattern()
        .kenong_variants()
        .into_iter()
        .flatten()
        .collect();
    assert_eq!(bell, [6]);
    let many = Pattern::parse(&format!("{}G", "N ".repeat(20))).unwrap();
    let v: Vec<u8> = many.kenong_variants().into_iter().flatten().collect();
    assert!(v.windows(2).all(|w| w[0] <= w[1]));
    assert_eq!((v[0], v[v.len() - 1]), (1, 6));
}

#[test]
fn density_filters_strokes() {
    use Part::*;
    let sounding = |d: Density| {
        [Kempyang, Ketuk, Kenong, Kempul, Wela, Gong]
            .into_iter()
            .filter(|p| d.admits(*p))
            .collect::<Vec<_>>()
    };
    assert_eq!(sounding(Density::Sparse), [Kenong, Gong]);
    assert_eq!(sounding(Density::Normal), [Kenong, Kempul, Gong]);
    assert_eq!(
        sounding(Density::Full),
        [Kempyang, Ketuk, Kenong, Kempul, Gong]
    );
    assert_eq!("FULL".parse(), Ok(Density::Full));
    assert_eq!("dense".parse::<Density>(), Err("dense".to_owned()));
}

proptest::proptest! {
    #[test]
    fn parsing_never_panics(text in "[pTNPWG. xq]{0,40}") {
        if let Ok(pattern) = Pattern::parse(&text) {
            proptest::prop_assert!(pattern.beats().last().is_some_and(|b| b.has(Part::Gong)));
        }
        let _ = Form::parse(&text);
    }
}
