use super::*;

#[test]
fn a_store_error_is_a_storage_failure_answered_503() {
    let error = ApiError::from(StoreError::Io("disk full".into()));
    assert_eq!(error.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(error.code(), "storage_unavailable");
    assert_eq!(error.cause(), Some(&Failure::Storage("disk full".into())));
    assert_eq!(error.cause().map(Failure::what), Some("storage failure"));
}

#[test]
fn signing_and_randomness_failures_are_named_as_what_they_are() {
    let signing = ApiError::failure(Failure::Signing("bad key".into()));
    let random = ApiError::failure(Failure::Randomness("no entropy".into()));
    assert_eq!(signing.cause().map(Failure::what), Some("signing failure"));
    assert_eq!(
        random.cause().map(Failure::what),
        Some("randomness failure")
    );
    assert_eq!(random.cause().map(Failure::detail), Some("no entropy"));
    // The client's answer is the same whatever failed.
    for error in [signing, random] {
        assert_eq!(error.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(error.code(), "storage_unavailable");
    }
}

#[test]
fn an_error_of_the_request_carries_no_failure() {
    assert_eq!(ApiError::bad_request("bad_life", "no").cause(), None);
    assert_eq!(
        ApiError::unauthorized_basic("invalid_credentials").cause(),
        None
    );
}
