//! The rules of SPEC 5.4 and issue 11 (item 2), each written as the request a client or an
//! attacker sends and the answer it must get.

use super::*;
use proptest::prelude::*;

const WALLETS: &str = "GET /api/v1alpha/wallets/*";

fn allowed(pattern: &str, method: &str, target: &str) -> bool {
    allows(Some(&vec![pattern.to_owned()]), method, target)
}

// ---- SPEC 5.4: methods, trailing slashes, `*` --------------------------------------------

#[test]
fn a_token_without_patterns_is_accepted_everywhere() {
    assert!(allows(None, "DELETE", "/api/v1alpha/admin"));
    // Even a path that a scoped token could never use: no scope, nothing to judge.
    assert!(allows(None, "GET", "/api/v1alpha/wallets/../admin"));
}

#[test]
fn an_empty_list_allows_nothing() {
    assert!(!allows(Some(&Vec::new()), "GET", "/api/v1alpha/whoami"));
}

#[test]
fn the_method_matches_in_any_case_and_only_that_method() {
    assert!(allowed(WALLETS, "GET", "/api/v1alpha/wallets/w1"));
    assert!(allowed(WALLETS, "get", "/api/v1alpha/wallets/w1"));
    assert!(allowed(
        "get /api/v1alpha/wallets/*",
        "GeT",
        "/api/v1alpha/wallets/w1"
    ));
    assert!(!allowed(WALLETS, "POST", "/api/v1alpha/wallets/w1"));
    assert!(!allowed(WALLETS, "GETX", "/api/v1alpha/wallets/w1"));
    assert!(!allowed(WALLETS, "", "/api/v1alpha/wallets/w1"));
}

#[test]
fn a_pattern_without_a_method_matches_every_method() {
    for method in ["GET", "POST", "DELETE", "PATCH", "whatever"] {
        assert!(allowed(
            "/api/v1alpha/whoami",
            method,
            "/api/v1alpha/whoami"
        ));
    }
}

#[test]
fn a_trailing_slash_does_not_matter_on_either_side() {
    for pattern in ["/api/v1alpha/whoami", "/api/v1alpha/whoami/"] {
        for path in ["/api/v1alpha/whoami", "/api/v1alpha/whoami/"] {
            assert!(allowed(pattern, "GET", path), "{pattern} {path}");
        }
    }
    assert!(allowed("/", "GET", "/"));
    assert!(!allowed("/", "GET", "/a"));
}

#[test]
fn a_literal_pattern_matches_that_path_only() {
    let pattern = "/api/v1alpha/whoami";
    assert!(!allowed(pattern, "GET", "/api/v1alpha/whoami/x"));
    assert!(!allowed(pattern, "GET", "/api/v1alpha"));
    assert!(!allowed(pattern, "GET", "/api/v1alpha/whoamI"));
    assert!(!allowed(pattern, "GET", "/api/v1alpha/whoamix"));
    assert!(!allowed(pattern, "GET", "/api/v1alpha/other"));
}

#[test]
fn a_last_star_matches_the_path_above_it_and_everything_below() {
    for path in [
        "/api/v1alpha/wallets",
        "/api/v1alpha/wallets/",
        "/api/v1alpha/wallets/w1",
        "/api/v1alpha/wallets/w1/tx/42",
        "/api/v1alpha/wallets/*",
    ] {
        assert!(allowed(WALLETS, "GET", path), "{path}");
    }
    for path in [
        "/api/v1alpha/wallets2",
        "/api/v1alpha/wallet",
        "/api/v1alpha",
        "/api/v1alpha/admin",
        "/",
    ] {
        assert!(!allowed(WALLETS, "GET", path), "{path}");
    }
    assert!(allowed("/*", "GET", "/"));
    assert!(allowed("/*", "GET", "/anything/at/all"));
}

#[test]
fn a_middle_star_matches_exactly_one_segment() {
    let pattern = "/api/v1alpha/wallets/*/tx";
    assert!(allowed(pattern, "GET", "/api/v1alpha/wallets/w1/tx"));
    assert!(allowed(pattern, "GET", "/api/v1alpha/wallets/w1/tx/"));
    assert!(!allowed(pattern, "GET", "/api/v1alpha/wallets/tx"));
    assert!(!allowed(pattern, "GET", "/api/v1alpha/wallets/w1/w2/tx"));
    assert!(!allowed(pattern, "GET", "/api/v1alpha/wallets/w1/tx/42"));
    assert!(!allowed(pattern, "GET", "/api/v1alpha/wallets/w1/rx"));
    assert!(allowed("/a/*/*/d", "GET", "/a/b/c/d"));
    assert!(!allowed("/a/*/*/d", "GET", "/a/b/d"));
}

#[test]
fn the_query_and_fragment_are_not_part_of_the_path() {
    assert!(allowed(
        WALLETS,
        "GET",
        "/api/v1alpha/wallets/w1?x=/../../admin"
    ));
    assert!(allowed(
        "/api/v1alpha/whoami",
        "GET",
        "/api/v1alpha/whoami?"
    ));
    assert!(allowed(
        "/api/v1alpha/whoami",
        "GET",
        "/api/v1alpha/whoami#top"
    ));
    assert!(allowed(
        "/api/v1alpha/whoami",
        "GET",
        "/api/v1alpha/whoami/?a#b"
    ));
    assert!(!allowed(
        "/api/v1alpha/whoami",
        "GET",
        "/api/v1alpha/admin?/api/v1alpha/whoami"
    ));
}

// ---- issue 11 item 2: the attacks, as sent ------------------------------------------------

#[test]
fn every_attack_of_issue_11_is_refused() {
    for attack in [
        "/api/v1alpha/wallets/../admin",
        "/api/v1alpha/wallets/%2e%2e/admin",
        "/api/v1alpha/wallets/%2E%2E/admin",
        "/api/v1alpha/wallets/.%2e/admin",
        "/api/v1alpha/wallets/%2e./admin",
        "/api/v1alpha/wallets/..%2fadmin",
        "/api/v1alpha/wallets/..%2Fadmin",
        "/api/v1alpha/wallets/w1%2f..%2f..%2fadmin",
        "/api/v1alpha/wallets/..;/admin",
        "/api/v1alpha/wallets/..%3b/admin",
        "/api/v1alpha/wallets/w1\\..\\..\\admin",
        "/api/v1alpha/wallets/w1%5c..%5c..%5cadmin",
        "/api/v1alpha/wallets/..%00/admin",
        "/api/v1alpha/wallets/%252e%252e/admin",
        "/api/v1alpha/wallets/w1/../../admin",
        "/api/v1alpha/wallets/./../admin",
    ] {
        assert!(!allowed(WALLETS, "GET", attack), "{attack}");
    }
}

#[test]
fn a_middle_star_never_matches_dots_or_an_empty_segment() {
    let pattern = "GET /api/v1alpha/wallets/*/tx";
    for attack in [
        "/api/v1alpha/wallets/../tx",
        "/api/v1alpha/wallets/%2e%2e/tx",
        "/api/v1alpha/wallets/./tx",
        "/api/v1alpha/wallets/%2e/tx",
        "/api/v1alpha/wallets//tx",
    ] {
        assert!(!allowed(pattern, "GET", attack), "{attack}");
    }
}

#[test]
fn a_path_judged_inside_the_scope_after_resolution_is_allowed() {
    // Dot segments that stay inside the scope are fine: the backend serves the same.
    assert!(allowed(WALLETS, "GET", "/api/v1alpha/wallets/w1/../w2"));
    assert!(allowed(WALLETS, "GET", "/api/v1alpha/wallets/./w1"));
    assert!(allowed(WALLETS, "GET", "/api/v1alpha/wallets/w1/%2e%2E/w2"));
    assert!(allowed(WALLETS, "GET", "/api/v1alpha/admin/../wallets/w1"));
    assert!(allowed(WALLETS, "GET", "/api/%76%31alpha/wallets/w1"));
    // A double-encoded escape is refused even when it would resolve inside the scope.
    assert!(!allowed(WALLETS, "GET", "/api/v1alpha/wallets/%2541"));
}

#[test]
fn escapes_compare_in_any_case() {
    assert!(allowed("/files/a%3Fb", "GET", "/files/a%3fb"));
    assert!(allowed("/files/a%3fb", "GET", "/files/a%3Fb"));
    assert!(allowed("/files/%41", "GET", "/files/A"));
    assert!(allowed("/files/A", "GET", "/files/%41"));
    assert!(!allowed("/files/a%3Fb", "GET", "/files/a?b"));
}

// ---- resolve_path: the rules one by one -----------------------------------------------

#[test]
fn resolution_decodes_unreserved_escapes_only() {
    let cases = [
        ("/", "/"),
        ("/a/b", "/a/b"),
        ("/%41%5a%61%7A%30%39", "/AZaz09"),
        ("/%2d%2E%5f%7e", "/-._~"),
        (
            "/%3f%23%5b%5D%40%21%24%26%27%28%29%2a%2b%2c%3d%3a",
            "/%3F%23%5B%5D%40%21%24%26%27%28%29%2A%2B%2C%3D%3A",
        ),
        ("/%c3%a9", "/%C3%A9"),
        ("/a%20b", "/a%20b"),
        ("/100%25", "/100%25"),
        ("/%25zz", "/%25zz"),
        ("/%25%41", "/%25A"),
        ("/a%25z00", "/a%25z00"),
        ("/%25z%41", "/%25zA"),
        ("/é", "/é"),
        ("/a*b:c@d!$&'()+,=", "/a*b:c@d!$&'()+,="),
    ];
    for (raw, resolved) in cases {
        assert_eq!(resolve_path(raw).as_deref(), Ok(resolved), "{raw}");
    }
}

#[test]
fn resolution_removes_dot_segments_as_rfc_3986_does() {
    let cases = [
        ("/a/./b", "/a/b"),
        ("/a/../b", "/b"),
        ("/a/b/../../c", "/c"),
        ("/a/b/..", "/a/"),
        ("/a/b/.", "/a/b/"),
        ("/a/b/./", "/a/b/"),
        ("/a/..", "/"),
        ("/.", "/"),
        ("/./", "/"),
        ("/a/%2e%2e/b", "/b"),
        ("/a/%2E./b", "/b"),
        ("/a/.%2E/b", "/b"),
        ("/a/%2e/b", "/a/b"),
        ("/a/...", "/a/..."),
        ("/a/..b/.c", "/a/..b/.c"),
        ("/a/b/../c/./d?x=..", "/a/c/d"),
    ];
    for (raw, resolved) in cases {
        assert_eq!(resolve_path(raw).as_deref(), Ok(resolved), "{raw}");
    }
}

#[test]
fn resolution_borrows_when_nothing_changes() {
    assert!(matches!(resolve_path("/a/b?q"), Ok(Cow::Borrowed("/a/b"))));
    assert!(matches!(resolve_path("/a/%2e/b"), Ok(Cow::Owned(_))));
    assert!(matches!(resolve_path("/a/./b"), Ok(Cow::Owned(_))));
}

#[test]
fn resolution_refuses_what_backends_read_differently() {
    use PathProblem::*;
    let cases = [
        ("", NotAbsolute),
        ("a/b", NotAbsolute),
        ("http://host/a", NotAbsolute),
        ("?/a", NotAbsolute),
        ("%2fa", NotAbsolute),
        ("/a%2fb", EncodedSeparator),
        ("/a%2Fb", EncodedSeparator),
        ("/a%5cb", EncodedSeparator),
        ("/a%5Cb", EncodedSeparator),
        ("/a\\b", Backslash),
        ("/a;b", PathParameter),
        ("/..;/a", PathParameter),
        ("/a%3bb", PathParameter),
        ("/a%3Bb", PathParameter),
        ("/a\0b", Control),
        ("/a%00b", Control),
        ("/a%0ab", Control),
        ("/a%1Fb", Control),
        ("/a%7fb", Control),
        ("/a\nb", Control),
        ("/a\u{7f}b", Control),
        ("/a\u{85}b", Control),
        ("/a b", Control),
        ("/a\tb", Control),
        ("/a\u{a0}b", Control),
        ("/a%zzb", MalformedEscape),
        ("/a%2", MalformedEscape),
        ("/a%", MalformedEscape),
        ("/a%+1", MalformedEscape),
        ("/a%2g", MalformedEscape),
        ("/a%é", MalformedEscape),
        ("/a%u002e", MalformedEscape),
        ("/%252e%252e", DoubleEncoded),
        ("/%2541", DoubleEncoded),
        ("/%25%2541", DoubleEncoded),
        ("//a", EmptySegment),
        ("/a//b", EmptySegment),
        ("/a//", EmptySegment),
        ("/..", AboveRoot),
        ("/../a", AboveRoot),
        ("/a/../..", AboveRoot),
        ("/a/../../", AboveRoot),
        ("/%2e%2e/a", AboveRoot),
        ("/a/./../..", AboveRoot),
    ];
    for (raw, problem) in cases {
        assert_eq!(resolve_path(raw), Err(problem), "{raw:?}");
    }
}

// ---- validate -----------------------------------------------------------------------------

#[test]
fn the_usual_patterns_are_valid() {
    for pattern in [
        "GET /api/v1alpha/wallets/*",
        "/api/v1alpha/whoami",
        "/api/v1alpha/wallets/*/tx",
        "delete /api/v1alpha/wallets/*",
        "  GET   /api/v1alpha/whoami/  ",
        "/",
        "/*",
        "/files/a%3Fb",
        "/files/%41",
        "/files/a%20b",
    ] {
        assert_eq!(validate(pattern), Ok(()), "{pattern}");
    }
}

#[test]
fn a_pattern_of_the_wrong_shape_is_refused_with_the_expected_shape() {
    let long = format!("/{}", "a".repeat(MAX_PATTERN_PATH));
    let longest = format!("/{}", "a".repeat(MAX_PATTERN_PATH - 1));
    assert_eq!(validate(&longest), Ok(()));
    for pattern in [
        "wallets",
        "",
        "GET",
        "GET wallets/*",
        "G3T /a",
        "GET-X /a",
        "/a b",
        "GET /a b",
        long.as_str(),
    ] {
        let message = validate(pattern).unwrap_err();
        assert!(
            message.contains("must be a path starting with \"/\"")
                && message.contains("GET /api/v1alpha/wallets/*"),
            "{pattern}: {message}"
        );
    }
}

#[test]
fn a_pattern_that_could_never_match_names_its_problem() {
    let cases = [
        ("/a?b=1", "query"),
        ("GET /a#top", "fragment"),
        ("/a/../b", "dot segment"),
        ("/a/./b", "dot segment"),
        ("/a/..", "dot segment"),
        ("/a/.", "dot segment"),
        ("/a/%2e%2e/b", "dot segment"),
        ("/a/%2E/b", "dot segment"),
        ("/a/.%2e/b", "dot segment"),
        ("/a\\b", "backslash"),
        ("/a;b", "\";\""),
        ("/a%3Bb", "\";\""),
        ("/a%2fb", "encoded \"/\""),
        ("/a%5Cb", "encoded \"/\""),
        ("/a//b", "empty segment"),
        ("/a%00", "control character"),
        ("/a\u{1}", "control character"),
        ("/a%zz", "two hex digits"),
        ("/a%252e", "double-encoded"),
    ];
    for (pattern, named) in cases {
        let message = validate(pattern).unwrap_err();
        assert!(
            message.contains(named) && message.contains(&format!("\"{pattern}\"")),
            "{pattern}: {message}"
        );
    }
}

#[test]
fn every_problem_has_its_own_message() {
    use PathProblem::*;
    let all = [
        NotAbsolute,
        Query,
        Fragment,
        Control,
        Backslash,
        EncodedSeparator,
        PathParameter,
        MalformedEscape,
        DoubleEncoded,
        EmptySegment,
        DotSegment,
        AboveRoot,
    ];
    let messages: std::collections::BTreeSet<String> =
        all.iter().map(ToString::to_string).collect();
    assert_eq!(messages.len(), all.len());
    assert!(messages.iter().all(|m| m.starts_with("the path ")));
    assert!(AboveRoot.to_string().contains("above \"/\""));
    assert!(NotAbsolute.to_string().contains("start with \"/\""));
}

#[test]
fn a_stored_pattern_that_is_no_longer_valid_matches_nothing() {
    // Tokens created before validate refused dot segments may still carry one.
    assert!(!allowed(
        "/api/v1alpha/wallets/../admin",
        "GET",
        "/api/v1alpha/admin"
    ));
    assert!(!allowed(
        "/api/v1alpha/wallets/../admin",
        "GET",
        "/api/v1alpha/wallets/../admin"
    ));
    assert!(!allowed("/a?b", "GET", "/a"));
    assert!(!allowed("/a#b", "GET", "/a"));
    assert!(!allowed("/a;b", "GET", "/a"));
}

// ---- the matcher on its own -------------------------------------------------------------

#[test]
fn the_matcher_never_lets_a_star_stand_for_dots_or_nothing() {
    // resolve_path never hands these over; the matcher refuses them all the same.
    for path in ["/w/../tx", "/w/./tx", "/w//tx"] {
        assert!(!path_matches("/w/*/tx", path), "{path}");
    }
    for path in ["/w/..", "/w/.", "/w/a/../b", "/w//a"] {
        assert!(!path_matches("/w/*", path), "{path}");
    }
    assert!(path_matches("/w/*/tx", "/w/a/tx"));
    assert!(path_matches("/w/*", "/w"));
    assert!(path_matches("/w/*", "/w/a/b"));
    assert!(!path_matches("/w/a", "/w/b"));
    assert!(!path_matches("/w/a", "/w"));
    assert!(!path_matches("/w", "/w/a"));
}

// ---- properties ---------------------------------------------------------------------------

/// How a backend sees `raw`, taking the reading that helps an attacker most wherever
/// backends differ: every escape decoded (`times` times), and only then split at `/`, `\`
/// counted as `/`, `;` parameters cut off, empty segments merged, dot segments removed and
/// excess `..` dropped (RFC 3986 5.2.4).
fn backend_view(raw: &str, times: usize) -> Vec<Vec<u8>> {
    rfc_view(raw, times).0
}

/// [`backend_view`], and whether a `..` had nothing left to remove.
fn rfc_view(raw: &str, times: usize) -> (Vec<Vec<u8>>, bool) {
    let mut bytes = raw
        .split(['?', '#'])
        .next()
        .unwrap_or(raw)
        .as_bytes()
        .to_vec();
    for _ in 0..times {
        bytes = percent_decode(&bytes);
    }
    let mut out: Vec<Vec<u8>> = Vec::new();
    let mut climbed = false;
    for segment in bytes.split(|&b| b == b'/' || b == b'\\') {
        let segment = segment.split(|&b| b == b';').next().unwrap_or_default();
        match segment {
            b"" | b"." => {}
            b".." => climbed |= out.pop().is_none(),
            name => out.push(name.to_vec()),
        }
    }
    (out, climbed)
}

fn under_wallets(view: &[Vec<u8>]) -> bool {
    view.len() >= 3 && view[..3] == [b"api".to_vec(), b"v1alpha".to_vec(), b"wallets".to_vec()]
}

fn percent_decode(bytes: &[u8]) -> Vec<u8> {
    let hex = |b: u8| char::from(b).to_digit(16);
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let pair = bytes.get(i + 1..i + 3);
        match pair.map(|p| (hex(p[0]), hex(p[1]))) {
            Some((Some(h), Some(l))) if bytes[i] == b'%' => {
                out.push(u8::try_from(h * 16 + l).unwrap());
                i += 3;
            }
            _ => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    out
}

/// Whether a backend's view of a path matches a pattern, SPEC 5.4 read literally.
fn view_matches(pattern_path: &str, view: &[Vec<u8>]) -> bool {
    let want: Vec<Vec<u8>> = backend_view(pattern_path, 1);
    let mut have = view.iter();
    for (i, w) in want.iter().enumerate() {
        if w == b"*" && i + 1 == want.len() {
            return true;
        }
        match have.next() {
            Some(_) if w == b"*" => {}
            Some(h) if h == w => {}
            _ => return false,
        }
    }
    have.next().is_none()
}

/// Segments an attacker would try, in every encoding of the dots.
fn segment() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => prop::sample::select(vec![
            "api", "v1alpha", "wallets", "w1", "tx", "admin", "*", "%41", "a.b",
        ]).prop_map(str::to_owned),
        4 => prop::sample::select(vec![
            ".", "..", "%2e", "%2E", "%2e%2e", "%2E%2E", ".%2e", "%2e.", "%2E.", ".%2E",
            "%2e%2E",
        ]).prop_map(str::to_owned),
        2 => prop::sample::select(vec![
            "", "..;", "..%3b", "..%2f", "%2f..", "..%5c", "..\\..", "%252e%252e", "%2e%2e%2f",
            "..%00", "%zz", "%2", "w1%2f..%2f..%2fadmin", "%25", "%u002e",
        ]).prop_map(str::to_owned),
        1 => "[a-z.%25eE2fF;\\\\]{0,5}",
    ]
}

fn path() -> impl Strategy<Value = String> {
    (
        prop::collection::vec(segment(), 0..7),
        prop::bool::weighted(0.95),
        prop::option::of("[?#][a-z./%]{0,6}"),
    )
        .prop_map(|(segments, absolute, query)| {
            let mut path = if absolute {
                "/".to_owned()
            } else {
                String::new()
            };
            path.push_str(&segments.join("/"));
            path.push_str(query.as_deref().unwrap_or(""));
            path
        })
}

fn pattern() -> impl Strategy<Value = String> {
    (
        prop::collection::vec(
            prop::sample::select(vec!["api", "v1alpha", "wallets", "w1", "tx", "*", "%41"]),
            0..5,
        ),
        prop::option::of(prop::sample::select(vec!["GET", "post"])),
        prop::bool::ANY,
    )
        .prop_map(|(segments, method, slash)| {
            let mut pattern = method.map(|m| format!("{m} ")).unwrap_or_default();
            pattern.push('/');
            pattern.push_str(&segments.join("/"));
            if slash && !segments.is_empty() {
                pattern.push('/');
            }
            pattern
        })
}

/// The pattern's path up to its first `*`, resolved.
fn literal_prefix(pattern: &str) -> String {
    let path = split(pattern).1;
    let literal = path.split("/*").next().unwrap_or(path);
    let literal = if literal.is_empty() { "/" } else { literal };
    resolve_path(literal).unwrap().into_owned()
}

proptest! {
    #[test]
    fn no_input_panics(pattern in any::<String>(), method in any::<String>(), target in any::<String>()) {
        let _ = validate(&pattern);
        let _ = resolve_path(&target);
        let _ = allows(Some(&vec![pattern]), &method, &target);
    }

    #[test]
    fn no_input_that_looks_like_a_path_panics(pattern in "[ A-Z]{0,4}/\\PC{0,20}", target in "/\\PC{0,30}") {
        let _ = validate(&pattern);
        let _ = resolve_path(&target);
        let _ = allows(Some(&vec![pattern]), "GET", &target);
    }

    #[test]
    fn what_is_allowed_is_inside_the_pattern_for_every_backend(pattern in pattern(), target in path()) {
        prop_assert!(validate(&pattern).is_ok());
        if allowed(&pattern, "GET", &target) {
            let want = split(&pattern).1;
            for times in [1, 2] {
                let view = backend_view(&target, times);
                prop_assert!(view_matches(want, &view), "{target} seen as {view:?} by a backend decoding {times} times");
            }
            let resolved = resolve_path(&target).unwrap();
            let prefix = literal_prefix(&pattern);
            prop_assert!(resolved.starts_with(prefix.trim_end_matches('/')), "{resolved} outside {prefix}");
        }
    }

    #[test]
    fn dot_segments_never_escape_the_wallets(segments in prop::collection::vec(segment(), 0..7)) {
        let target = format!("/api/v1alpha/wallets/{}", segments.join("/"));
        if allowed(WALLETS, "GET", &target) {
            let view = backend_view(&target, 1);
            prop_assert!(under_wallets(&view), "{target} seen as {view:?}");
        }
    }

    #[test]
    fn unambiguous_dots_are_resolved_not_refused(
        segments in prop::collection::vec(prop::sample::select(vec![
            "w1", "tx", "admin", ".", "..", "%2e", "%2E", "%2e%2e", ".%2E", "%2e.",
        ]), 0..7)
    ) {
        // Names and dot segments only: nothing is ambiguous, so the answer is exactly
        // whether the backend's view stays under /api/v1alpha/wallets.
        let target = format!("/api/v1alpha/wallets/{}", segments.join("/"));
        let (view, climbed) = rfc_view(&target, 1);
        prop_assert_eq!(allowed(WALLETS, "GET", &target), under_wallets(&view) && !climbed, "{}", target);
    }

    #[test]
    fn a_resolved_path_is_resolved(target in path()) {
        if let Ok(resolved) = resolve_path(&target) {
            let again = resolve_path(&resolved);
            prop_assert_eq!(again.as_deref(), Ok(&*resolved));
            prop_assert!(resolved.starts_with('/'));
            prop_assert!(!resolved.contains("//"));
            prop_assert!(resolved.split('/').all(|s| s != "." && s != ".."));
            // Every escape left is upper-case and not of an unreserved character.
            for (at, _) in resolved.match_indices('%') {
                let digits = &resolved[at + 1..at + 3];
                prop_assert!(digits.bytes().all(|b| b.is_ascii_digit() || b.is_ascii_uppercase()), "{resolved}");
            }
        }
    }

    #[test]
    fn a_middle_star_stands_for_exactly_one_name(name in "[a-zA-Z0-9_~-][a-zA-Z0-9._~-]{0,8}", extra in "[a-z]{1,4}") {
        let pattern = "GET /w/*/tx";
        let (one, two, below) = (
            format!("/w/{name}/tx"),
            format!("/w/{name}/{extra}/tx"),
            format!("/w/{name}/tx/{extra}"),
        );
        prop_assert!(allowed(pattern, "GET", &one));
        prop_assert!(!allowed(pattern, "GET", &two));
        prop_assert!(!allowed(pattern, "GET", &below));
    }
}
