use super::*;
use crate::config::Secret;

const AT: &str = "2026-11-22T09:30:00.125Z";

fn notice(what: What) -> Notice {
    Notice {
        session: "20261122-093000-7f3a".into(),
        plan: "Game day".into(),
        at: AT.into(),
        what,
    }
}

fn investigate() -> SegmentRef {
    SegmentRef {
        number: 2,
        of: 5,
        title: "Investigate".into(),
    }
}

/// Every event, its Slack body, its Mattermost text and its JSON body, byte for byte.
#[test]
fn golden_bodies() {
    let cases = [
        (
            What::Started {
                by: "page".into(),
                segments: 5,
                planned_seconds: Some(3604.0),
            },
            r#"{"text":"▶ \"Game day\" started (by page)"}"#,
            r#"{"event":"started","session":"20261122-093000-7f3a","plan":"Game day","at":"2026-11-22T09:30:00.125Z","by":"page","segments":5,"planned_seconds":3604.0,"text":"▶ \"Game day\" started (by page)"}"#,
        ),
        (
            What::Segment {
                segment: investigate(),
                seconds: 1200.0,
            },
            r#"{"text":"Segment 2/5 \"Investigate\" — 20m"}"#,
            r#"{"event":"segment","session":"20261122-093000-7f3a","plan":"Game day","at":"2026-11-22T09:30:00.125Z","segment":2,"of":5,"title":"Investigate","seconds":1200.0,"text":"Segment 2/5 \"Investigate\" — 20m"}"#,
        ),
        (
            What::Warning {
                segment: investigate(),
                left_seconds: 120.0,
            },
            r#"{"text":"⚠ 2 minutes left in \"Investigate\""}"#,
            r#"{"event":"warning","session":"20261122-093000-7f3a","plan":"Game day","at":"2026-11-22T09:30:00.125Z","segment":2,"of":5,"title":"Investigate","left_seconds":120.0,"text":"⚠ 2 minutes left in \"Investigate\""}"#,
        ),
        (
            What::Turn {
                segment: investigate(),
                person: "Ana".into(),
                next: Some("Budi".into()),
            },
            r#"{"text":"Ana's turn in \"Investigate\", then Budi"}"#,
            r#"{"event":"turn","session":"20261122-093000-7f3a","plan":"Game day","at":"2026-11-22T09:30:00.125Z","segment":2,"of":5,"title":"Investigate","person":"Ana","next":"Budi","text":"Ana's turn in \"Investigate\", then Budi"}"#,
        ),
        (
            What::Spin {
                segment: investigate(),
                entry: "Expired certificate".into(),
                by: "slack:@ana".into(),
            },
            r#"{"text":"The wheel in \"Investigate\" landed on \"Expired certificate\" (spun by slack:@ana)"}"#,
            r#"{"event":"spin","session":"20261122-093000-7f3a","plan":"Game day","at":"2026-11-22T09:30:00.125Z","segment":2,"of":5,"title":"Investigate","entry":"Expired certificate","by":"slack:@ana","text":"The wheel in \"Investigate\" landed on \"Expired certificate\" (spun by slack:@ana)"}"#,
        ),
        (
            What::Deadline {
                segment: investigate(),
            },
            r#"{"text":"Deadline: \"Investigate\""}"#,
            r#"{"event":"deadline","session":"20261122-093000-7f3a","plan":"Game day","at":"2026-11-22T09:30:00.125Z","segment":2,"of":5,"title":"Investigate","text":"Deadline: \"Investigate\""}"#,
        ),
        (
            What::Overtime {
                segment: investigate(),
            },
            r#"{"text":"Overtime in \"Investigate\""}"#,
            r#"{"event":"overtime","session":"20261122-093000-7f3a","plan":"Game day","at":"2026-11-22T09:30:00.125Z","segment":2,"of":5,"title":"Investigate","text":"Overtime in \"Investigate\""}"#,
        ),
        (
            What::Finished {
                elapsed_seconds: 3724.4,
                planned_seconds: Some(3604.0),
                stopped_by: None,
            },
            r#"{"text":"■ \"Game day\" finished — 1h02m, 2 min over plan"}"#,
            r#"{"event":"finished","session":"20261122-093000-7f3a","plan":"Game day","at":"2026-11-22T09:30:00.125Z","elapsed_seconds":3724.4,"planned_seconds":3604.0,"ending":"completed","text":"■ \"Game day\" finished — 1h02m, 2 min over plan"}"#,
        ),
        (
            What::Finished {
                elapsed_seconds: 2400.0,
                planned_seconds: Some(3604.0),
                stopped_by: Some("slack:@ana".into()),
            },
            r#"{"text":"■ \"Game day\" stopped by slack:@ana — 40m, 20 min under plan"}"#,
            r#"{"event":"finished","session":"20261122-093000-7f3a","plan":"Game day","at":"2026-11-22T09:30:00.125Z","elapsed_seconds":2400.0,"planned_seconds":3604.0,"ending":"stopped","stopped_by":"slack:@ana","text":"■ \"Game day\" stopped by slack:@ana — 40m, 20 min under plan"}"#,
        ),
        (
            What::Resumed {
                by: "server".into(),
                down_seconds: Some(12.3456),
            },
            r#"{"text":"▶ \"Game day\" resumed (by server, after the server was down for 12s)"}"#,
            r#"{"event":"resumed","session":"20261122-093000-7f3a","plan":"Game day","at":"2026-11-22T09:30:00.125Z","by":"server","down_seconds":12.346,"text":"▶ \"Game day\" resumed (by server, after the server was down for 12s)"}"#,
        ),
    ];
    for (what, slack, json) in cases {
        let notice = notice(what);
        let event = notice.what.event();
        assert_eq!(
            message(&notice, NotifyFormat::Slack),
            Message {
                event,
                body: slack.to_owned()
            }
        );
        let mattermost: serde_json::Value =
            serde_json::from_str(&message(&notice, NotifyFormat::Mattermost).body).unwrap();
        let slack_text: serde_json::Value = serde_json::from_str(slack).unwrap();
        // Nothing in these needs escaping, except the actor's @ for Mattermost.
        assert_eq!(
            mattermost["text"].as_str().unwrap().replace('\u{200B}', ""),
            slack_text["text"]
        );
        assert_eq!(mattermost["username"], "gongan");
        assert_eq!(message(&notice, NotifyFormat::Json).body, json, "{event}");
    }
}

#[test]
fn a_mattermost_body_names_gongan() {
    let notice = notice(What::Deadline {
        segment: investigate(),
    });
    assert_eq!(
        message(&notice, NotifyFormat::Mattermost).body,
        r#"{"text":"Deadline: \"Investigate\"","username":"gongan"}"#
    );
}

#[test]
fn user_text_cannot_ping_the_channel_or_break_the_line() {
    let mut notice = notice(What::Started {
        by: "slack:@ana".into(),
        segments: 1,
        planned_seconds: None,
    });
    notice.plan =
        "<!channel> Drill & <http://evil.example|click>\n@here\u{1b}[31m \u{202e}red".into();
    let slack = text(&notice, Markup::Slack);
    assert_eq!(
        slack,
        "▶ \"&lt;!channel&gt; Drill &amp; &lt;http://evil.example|click&gt;@here[31m red\" \
         started (by slack:@ana)"
    );
    let mattermost = text(&notice, Markup::Mattermost);
    assert!(mattermost.contains("@\u{200B}here"), "{mattermost}");
    assert!(mattermost.contains("slack:@\u{200B}ana"), "{mattermost}");
    assert!(!mattermost.contains("@here"));
    // JSON keeps the text as written, minus the control characters.
    let json: serde_json::Value =
        serde_json::from_str(&message(&notice, NotifyFormat::Json).body).unwrap();
    assert_eq!(
        json["plan"],
        "<!channel> Drill & <http://evil.example|click>@here[31m red"
    );
    assert!(!json.to_string().contains("planned_seconds"));
    for body in [
        message(&notice, NotifyFormat::Slack).body,
        message(&notice, NotifyFormat::Mattermost).body,
    ] {
        assert!(!body.contains('\n') && !body.contains("\\n") && !body.contains("\\u001b"));
    }
}

#[test]
fn lengths_read_like_a_person_wrote_them() {
    let cases = [
        (0.2, "0s"),
        (45.0, "45s"),
        (59.6, "1m"),
        (1200.0, "20m"),
        (150.0, "2m30s"),
        (3720.0, "1h02m"),
        (7200.0, "2h00m"),
        (-3.0, "0s"),
    ];
    for (seconds, expected) in cases {
        assert_eq!(span(seconds), expected, "{seconds}");
    }
    for (seconds, expected) in [
        (1.0, "1 second"),
        (30.0, "30 seconds"),
        (60.0, "1 minute"),
        (120.4, "2 minutes"),
        (90.0, "1m30s"),
        (3600.0, "1h00m"),
    ] {
        assert_eq!(left(seconds), expected, "{seconds}");
    }
    for (over, expected) in [
        (4.0, "on plan"),
        (-29.0, "on plan"),
        (120.4, "2 min over plan"),
        (-1204.0, "20 min under plan"),
    ] {
        assert_eq!(against_plan(over), expected, "{over}");
    }
}

/// The signature a receiver recomputes: HMAC-SHA256 of the raw body with the secret, in
/// lowercase hex. The expected value is RFC 4231's test case 2 (key "Jefe").
#[test]
fn the_signature_is_hmac_sha256_of_the_body() {
    let secret = Secret::new("Jefe").unwrap();
    assert_eq!(
        signature(&secret, b"what do ya want for nothing?"),
        "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    );
    let body = message(
        &notice(What::Deadline {
            segment: investigate(),
        }),
        NotifyFormat::Json,
    )
    .body;
    let signed = signature(&secret, body.as_bytes());
    assert!(crate::receivers::verify::hex_matches(
        &hmac_sha256(b"Jefe", &[body.as_bytes()]),
        signed.strip_prefix("sha256=").unwrap()
    ));
    assert_ne!(
        signed,
        signature(&Secret::new("other").unwrap(), body.as_bytes())
    );
}
