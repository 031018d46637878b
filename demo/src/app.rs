//! The demo's [`Router`]: every route, over the drivers in [`Drivers`].

use weft::http::{Request, Response, Router, StatusCode};

use crate::techempower;

/// The `/plaintext` response.
fn plaintext() -> Response {
    Response::status(StatusCode::OK)
        .content_type(techempower::TEXT)
        .body(techempower::PLAINTEXT)
}

/// Every route of the demo.
pub fn router() -> Router {
    Router::new()
        .get("/", |_req: Request| async { plaintext() })
        .get("/plaintext", |_req: Request| async { plaintext() })
        .get("/json", |_req: Request| async {
            Response::json(techempower::hello_json())
        })
        .post("/echo", |req: Request| async move {
            Response::status(StatusCode::OK)
                .content_type("application/octet-stream")
                .body(req.into_body())
        })
}
