use super::*;

const GOOD: &str = r#"
name = "Drill"
description = "A small drill"

[[segments]]
title = "Briefing"
duration = "5m"

[[segments]]
title = "Investigation"
duration = "1h 30m"
form = "ladrang"
density = "full"
end = "wait"
warnings = ["1m", "10m"]
notes = "Let them struggle a little."
"#;

fn problems(text: &str) -> Vec<String> {
    match ValidPlan::from_toml(text) {
        Err(PlanError::Invalid(p)) => p.0.iter().map(ToString::to_string).collect(),
        other => panic!("expected validation problems, got {other:?}"),
    }
}

fn segment(fields: &str) -> String {
    format!(
        "name = \"P\"\n[[segments]]\ntitle = \"Ok\"\nduration = \"1m\"\n[[segments]]\n{fields}\n"
    )
}

#[test]
fn reads_a_plan_with_defaults() {
    let plan = ValidPlan::from_toml(GOOD).unwrap();
    assert_eq!(plan.name(), "Drill");
    let [briefing, investigation] = plan.segments() else {
        panic!("two segments")
    };
    assert_eq!(briefing.form(), &Form::Lancaran);
    assert_eq!(briefing.density(), Density::Normal);
    assert_eq!(briefing.end(), EndAction::Auto);
    assert!(briefing.warnings().is_empty());
    assert_eq!(investigation.duration(), SegmentDuration::from_mins(90));
    assert_eq!(investigation.form(), &Form::Ladrang);
    assert_eq!(investigation.pattern().len(), 32);
    assert_eq!(investigation.end(), EndAction::Wait);
    assert_eq!(
        investigation.warnings(),
        [
            SegmentDuration::from_mins(10),
            SegmentDuration::from_mins(1)
        ]
    );
    assert_eq!(plan.total_duration(), Duration::from_secs(95 * 60));
}

#[test]
fn toml_and_json_are_one_model() {
    let plan = ValidPlan::from_toml(GOOD).unwrap();
    let json = serde_json::to_string(&plan).unwrap();
    assert!(json.contains(r#""duration":"1h30m""#), "{json}");
    assert_eq!(ValidPlan::from_json(&json), Ok(plan.clone()));
    let toml = plan.to_toml().unwrap();
    assert_eq!(ValidPlan::from_toml(&toml), Ok(plan.clone()));
    let via_serde: ValidPlan = serde_json::from_str(&json).unwrap();
    assert_eq!(via_serde, plan);
}

#[test]
fn unknown_fields_are_rejected() {
    let err = Plan::parse_toml(&segment(
        "title = \"A\"\nduration = \"1m\"\nwarning = [\"1m\"]",
    ))
    .unwrap_err();
    assert!(
        matches!(&err, PlanError::Toml(m) if m.contains("warning")),
        "{err}"
    );
    let err = Plan::from_json(r#"{"name":"x","segments":[],"colour":"red"}"#).unwrap_err();
    assert!(
        matches!(&err, PlanError::Json(m) if m.contains("colour")),
        "{err}"
    );
}

#[test]
fn an_empty_plan_is_rejected() {
    assert_eq!(
        problems("name = \"Nothing\""),
        ["plan: segments: the plan has no segments (add at least one [[segments]])"]
    );
    assert_eq!(
        problems("name = \"  \"\n[[segments]]\ntitle = \"a\"\nduration = \"1m\""),
        ["plan: name: is empty"]
    );
}

#[test]
fn each_problem_names_the_segment_and_the_field() {
    let cases = [
        (
            "title = \"  \"\nduration = \"1m\"",
            "segments[1] (untitled): title: is empty",
        ),
        (
            "title = \"B\"",
            "segments[1] \"B\": duration: empty duration",
        ),
        (
            "title = \"B\"\nduration = \"0m\"",
            "segments[1] \"B\": duration: \"0m\" is zero",
        ),
        (
            "title = \"B\"\nduration = \"-5m\"",
            "segments[1] \"B\": duration: \"-5m\" is negative",
        ),
        (
            "title = \"B\"\nduration = \"twenty\"",
            "segments[1] \"B\": duration: \"twenty\": expected",
        ),
        (
            "title = \"B\"\nduration = \"25h\"",
            "segments[1] \"B\": duration: 25h is longer than the 24h maximum",
        ),
        (
            "title = \"B\"\nduration = \"1m\"\nform = \"polka\"",
            "segments[1] \"B\": form: unknown form \"polka\"",
        ),
        (
            "title = \"B\"\nduration = \"1m\"\nform = \"T N P\"",
            "segments[1] \"B\": form: bad pattern: the pattern has no gong",
        ),
        (
            "title = \"B\"\nduration = \"1m\"\nform = \"T G N G\"",
            "segments[1] \"B\": form: bad pattern: gong (G) on beat 2 of 4",
        ),
        (
            "title = \"B\"\nduration = \"1m\"\nform = \"T X G\"",
            "segments[1] \"B\": form: bad pattern: unknown symbol 'X' in beat 2",
        ),
        (
            "title = \"B\"\nduration = \"1m\"\nform = \"\"",
            "segments[1] \"B\": form: bad pattern: the pattern is empty",
        ),
        (
            "title = \"B\"\nduration = \"1m\"\ndensity = \"dense\"",
            "segments[1] \"B\": density: unknown density \"dense\"",
        ),
        (
            "title = \"B\"\nduration = \"1m\"\nend = \"never\"",
            "segments[1] \"B\": end: unknown end \"never\"",
        ),
        (
            "title = \"B\"\nduration = \"5m\"\nwarnings = [\"1m\", \"5m\"]",
            "segments[1] \"B\": warnings[1]: warning 5m is not shorter than the segment (5m)",
        ),
        (
            "title = \"B\"\nduration = \"5m\"\nwarnings = [\"1m\", \"60s\"]",
            "segments[1] \"B\": warnings[1]: warning 1m is listed twice",
        ),
        (
            "title = \"B\"\nduration = \"5m\"\nwarnings = [\"soon\"]",
            "segments[1] \"B\": warnings[0]: \"soon\": expected",
        ),
    ];
    each_has_its_one_problem(&cases);
}

/// Each `(fields, problem)`: the second segment written with `fields` has exactly one
/// problem, which starts with `problem`.
fn each_has_its_one_problem(cases: &[(&str, &str)]) {
    for (fields, expected) in cases {
        let found = problems(&segment(fields));
        assert_eq!(found.len(), 1, "{fields}: {found:?}");
        assert!(
            found[0].starts_with(expected),
            "{fields}:\n  got  {}\n  want {expected}…",
            found[0]
        );
    }
}

#[test]
fn all_problems_are_reported_at_once() {
    let text = "name = \"P\"\n[[segments]]\ntitle = \"A\"\nduration = \"0s\"\n\
                [[segments]]\ntitle = \"\"\nduration = \"1m\"\nform = \"zz\"\n";
    let found = problems(text);
    assert_eq!(found.len(), 3, "{found:?}");
    assert!(found[0].starts_with("segments[0] \"A\": duration"));
    assert!(found[1].starts_with("segments[1] (untitled): title"));
    assert!(found[2].starts_with("segments[1] (untitled): form"));
}

#[test]
fn plan_ids_are_safe_slugs() {
    assert!(PlanId::parse("wheel-of-misfortune").is_ok());
    assert!(PlanId::parse("drill2").is_ok());
    for bad in [
        "",
        "-a",
        "a-",
        "a--b",
        "A",
        "../x",
        "a.b",
        "a b",
        &"a".repeat(65),
    ] {
        assert!(PlanId::parse(bad).is_err(), "{bad:?}");
    }
}

proptest::proptest! {
    #[test]
    fn validation_never_panics(
        title in "\\PC{0,8}",
        duration in "[0-9hms -]{0,8}",
        form in proptest::option::of("[pTNPWG. a-z]{0,12}"),
        warnings in proptest::collection::vec("[0-9hms]{0,4}", 0..4),
    ) {
        let plan = Plan {
            name: "p".into(),
            description: String::new(),
            segments: vec![RawSegment { title, duration, form, warnings, ..RawSegment::default() }],
        };
        if let Ok(valid) = plan.validate() {
            let again = valid.to_plan().validate();
            proptest::prop_assert_eq!(again, Ok(valid));
        }
    }
}

#[test]
fn a_segment_carries_a_wheel_and_a_rotation_that_round_trip() {
    let text = r#"
name = "Wheel"
[[segments]]
title = "Scenario"
duration = "20m"
entries = [" Disk full ", "DNS", "Expired certificate"]
draw = "without-repetition"
rotation = ["Ana", "Budi"]
[[segments]]
title = "Debrief"
duration = "5m"
"#;
    let plan = ValidPlan::from_toml(text).unwrap();
    let wheel = &plan.segments()[0];
    assert_eq!(wheel.entries(), ["Disk full", "DNS", "Expired certificate"]);
    assert_eq!(wheel.draw(), Draw::WithoutRepetition);
    assert_eq!(wheel.rotation(), ["Ana", "Budi"]);
    let plain = &plan.segments()[1];
    assert!(plain.entries().is_empty() && plain.rotation().is_empty());
    assert_eq!(plain.draw(), Draw::WithRepetition);
    let again = ValidPlan::from_toml(&plan.to_toml().unwrap()).unwrap();
    assert_eq!(again, plan);
    assert!(
        !plan
            .to_toml()
            .unwrap()
            .contains("draw = \"with-repetition\""),
        "a segment without a wheel says nothing of drawing"
    );
}

#[test]
fn wheels_and_rotations_name_their_problems() {
    let many: Vec<String> = (0..61).map(|i| format!("\"e{i}\"")).collect();
    let many = format!(
        "title = \"B\"\nduration = \"1m\"\nentries = [{}]",
        many.join(",")
    );
    let cases = [
        (
            "title = \"B\"\nduration = \"1m\"\nentries = [\"a\", \" \"]",
            "segments[1] \"B\": entries[1]: is empty",
        ),
        (
            "title = \"B\"\nduration = \"1m\"\nentries = [\"DNS\", \"dns\"]",
            "segments[1] \"B\": entries[1]: \"dns\" is listed twice",
        ),
        (
            "title = \"B\"\nduration = \"1m\"\nentries = [\"a\"]\ndraw = \"sometimes\"",
            "segments[1] \"B\": draw: unknown draw \"sometimes\"",
        ),
        (
            "title = \"B\"\nduration = \"1m\"\ndraw = \"without-repetition\"",
            "segments[1] \"B\": draw: is set but the segment has no entries",
        ),
        (
            "title = \"B\"\nduration = \"1m\"\nrotation = [\"Ana\", \"Ana\"]",
            "segments[1] \"B\": rotation[1]: \"Ana\" is listed twice",
        ),
        (
            many.as_str(),
            "segments[1] \"B\": entries: has 61 names; at most 60",
        ),
    ];
    each_has_its_one_problem(&cases);
}
