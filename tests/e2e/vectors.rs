//! The shared life vectors (`tests/vectors/life.json`) against the running server.

use serde_json::{Value, json};

use crate::harness::{Server, TempDir, basic};

#[test]
fn life_vectors() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/vectors/life.json");
    let vectors: Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("life.json")).expect("JSON");
    let data = TempDir::new("life");
    let server = Server::start(&data.join("data"), &[]);
    let client = server.client();
    let auth = basic("admin", server.admin_password.as_deref().expect("password"));
    let mut n = 0;
    let mut next = || {
        n += 1;
        format!("vector {n}")
    };
    for row in vectors["ok"].as_array().expect("ok rows") {
        let (life, secs) = (&row[0], &row[1]);
        let created = client.create(&auth, &next(), life.clone());
        assert_eq!(&created["jwt_token_life"], secs, "{life}");
        // The token's own times agree.
        let token = created["jwt_token"].as_str().expect("token");
        let claims = tokenlife_core::decode_unverified(token)
            .expect("decode")
            .claims_value();
        assert_eq!(
            claims["exp"]
                .as_i64()
                .zip(claims["iat"].as_i64())
                .map(|(e, i)| e - i),
            secs.as_i64()
        );
    }
    for row in vectors["err"].as_array().expect("err rows") {
        let (life, fragment) = (&row[0], row[2].as_str().expect("fragment"));
        let response = client.post_json(
            "/api/v1alpha/token/",
            std::slice::from_ref(&auth),
            &json!({"jwt_token_description": next(), "jwt_token_life": life}),
        );
        assert_eq!(response.status, 400, "{life}");
        assert_eq!(response.code(), "bad_life", "{life}");
        assert!(
            response.message().contains(fragment),
            "{life}: {}",
            response.message()
        );
    }
    for row in vectors["max"].as_array().expect("max rows") {
        let life = &row[0];
        let response = client.post_json(
            "/api/v1alpha/token/",
            std::slice::from_ref(&auth),
            &json!({"jwt_token_description": next(), "jwt_token_life": life}),
        );
        match (&row[1], row[2].as_str()) {
            (Value::Number(secs), _) => {
                assert_eq!(response.status, 201, "{life}");
                assert_eq!(
                    &response.json()["jwt_token_life"],
                    &Value::Number(secs.clone())
                );
            }
            (_, Some(message)) => {
                assert_eq!(response.status, 400, "{life}");
                assert_eq!(response.message(), message, "{life}");
            }
            _ => panic!("bad max row {row}"),
        }
    }
}
