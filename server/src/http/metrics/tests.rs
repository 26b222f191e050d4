use super::*;

#[test]
fn routes_are_the_api_templates_and_never_a_made_up_path() {
    assert_eq!(Route::of("/api/v1alpha/token/"), Route::Tokens);
    assert_eq!(Route::of("/api/v1alpha/token"), Route::Tokens);
    assert_eq!(Route::of("/api/v1alpha/token/abc"), Route::Token);
    assert_eq!(Route::of("/api/v1alpha/token/abc/"), Route::Token);
    assert_eq!(Route::of("/api/v1alpha/token/abc/def"), Route::Other);
    assert_eq!(Route::of("/api/v1alpha/whoami"), Route::Whoami);
    assert_eq!(Route::of("/.well-known/jwks.json"), Route::Jwks);
    assert_eq!(Route::of("/.well-known/other"), Route::Other);
    assert_eq!(Route::of("/api/nothing"), Route::Other);
    assert_eq!(Route::of("/pkg/tokenlife.js"), Route::Pkg);
    assert_eq!(Route::of("/"), Route::Page);
    assert_eq!(Route::of("/made-up"), Route::Page);
    for route in Route::ALL {
        assert_eq!(Route::ALL[route as usize], route);
    }
}

#[test]
fn seconds_are_exact() {
    assert_eq!(seconds(0), "0");
    assert_eq!(seconds(500), "0.0005");
    assert_eq!(seconds(2_500_000), "2.5");
    assert_eq!(seconds(10_000_000), "10");
    assert_eq!(seconds(1_000_001), "1.000001");
}

#[test]
fn histogram_buckets_are_cumulative_with_inf_last() {
    let histogram = Histogram::new();
    histogram.observe(Duration::from_micros(500));
    histogram.observe(Duration::from_micros(501));
    histogram.observe(Duration::from_secs(60));
    let mut out = String::new();
    histogram.write(&mut out, "x", "route=\"/\"");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "x_bucket{route=\"/\",le=\"0.0005\"} 1");
    assert_eq!(lines[1], "x_bucket{route=\"/\",le=\"0.001\"} 2");
    assert_eq!(lines[13], "x_bucket{route=\"/\",le=\"10\"} 2");
    assert_eq!(lines[14], "x_bucket{route=\"/\",le=\"+Inf\"} 3");
    assert_eq!(lines[15], "x_sum{route=\"/\"} 60.001001");
    assert_eq!(lines[16], "x_count{route=\"/\"} 3");
    let mut bare = String::new();
    histogram.write(&mut bare, "y", "");
    assert!(bare.contains("y_bucket{le=\"+Inf\"} 3\ny_sum 60.001001\ny_count 3\n"));
}
