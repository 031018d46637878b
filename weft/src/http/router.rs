//! [`Router`]: static and `:param` routes, method matching, 404 and 405.
//!
//! Routes live in a segment trie; at each level a static segment wins over a
//! parameter. A path that matches with no handler for the method answers
//! `405 Method Not Allowed` with an `Allow` header; `HEAD` falls back to the
//! `GET` handler (the connection drops the body).

use super::future_pool::HandlerFuture;
use super::request::{Params, Request};
use super::response::Response;
use proto_http::{Method, StatusCode};
use std::future::Future;
use std::sync::Arc;

/// A type-erased handler: shared by every worker, its futures stay on one.
///
/// Its future is a [`HandlerFuture`], which keeps the handler's own future
/// in a block recycled per worker instead of a fresh `Box` per call.
pub type Handler = Arc<dyn Fn(Request) -> HandlerFuture + Send + Sync>;

/// Wraps an `async fn(Request) -> impl Into<Response>` as a [`Handler`].
pub fn handler<F, Fut, R>(f: F) -> Handler
where
    F: Fn(Request) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = R> + 'static,
    R: Into<Response>,
{
    Arc::new(move |req| {
        let fut = f(req);
        HandlerFuture::new(async move { fut.await.into() })
    })
}

/// What [`Router::start`] did with a request.
pub(crate) enum Started {
    /// Answered at once (404, 405).
    Done(Response),
    /// The handler's future, to be polled to completion.
    Running(HandlerFuture),
}

#[derive(Default)]
struct Node {
    statics: Vec<(Box<str>, Node)>,
    param: Option<Box<(Arc<str>, Node)>>,
    methods: Vec<(Method, Handler)>,
}

/// Maps method and path to a handler.
///
/// ```
/// use weft::http::{Request, Response, Router};
///
/// let router = Router::new()
///     .get("/plaintext", |_req: Request| async { "Hello, World!" })
///     .get("/users/:id", |req: Request| async move {
///         Response::text(format!("user {}", req.param("id").unwrap_or("?")))
///     });
/// # let _ = router;
/// ```
#[derive(Default)]
pub struct Router {
    root: Node,
}

/// What routing decided.
pub enum Route {
    /// Call this handler (route params are set on the request).
    Found(Handler),
    /// The path exists but not for this method; the allowed methods.
    MethodNotAllowed(Vec<Method>),
    /// No such path.
    NotFound,
}

impl Router {
    /// An empty router (everything is 404).
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a route. Paths are `/`-separated segments; `:name` captures one
    /// segment.
    ///
    /// # Panics
    ///
    /// On two parameters with different names at the same position, or a
    /// path not starting with `/`.
    pub fn route<F, Fut, R>(mut self, method: Method, path: &str, f: F) -> Self
    where
        F: Fn(Request) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = R> + 'static,
        R: Into<Response>,
    {
        self.insert(method, path, handler(f));
        self
    }

    /// Adds a type-erased handler.
    pub fn insert(&mut self, method: Method, path: &str, h: Handler) {
        assert!(path.starts_with('/'), "route {path:?} must start with '/'");
        let mut node = &mut self.root;
        for seg in segments(path) {
            node = if let Some(name) = seg.strip_prefix(':') {
                let p = node
                    .param
                    .get_or_insert_with(|| Box::new((Arc::from(name), Node::default())));
                assert!(
                    &*p.0 == name,
                    "conflicting parameter names :{} and :{name}",
                    p.0
                );
                &mut p.1
            } else {
                let i = match node.statics.iter().position(|(s, _)| &**s == seg) {
                    Some(i) => i,
                    None => {
                        node.statics.push((seg.into(), Node::default()));
                        node.statics.len() - 1
                    }
                };
                &mut node.statics[i].1
            };
        }
        node.methods.retain(|(m, _)| *m != method);
        node.methods.push((method, h));
    }

    /// `GET` route.
    pub fn get<F, Fut, R>(self, path: &str, f: F) -> Self
    where
        F: Fn(Request) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = R> + 'static,
        R: Into<Response>,
    {
        self.route(Method::Get, path, f)
    }

    /// `POST` route.
    pub fn post<F, Fut, R>(self, path: &str, f: F) -> Self
    where
        F: Fn(Request) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = R> + 'static,
        R: Into<Response>,
    {
        self.route(Method::Post, path, f)
    }

    /// Wraps every route's handler in `layer` (see [`super::middleware`]).
    /// Layers added later run first (outermost).
    pub fn layer(mut self, layer: super::middleware::Layer) -> Self {
        fn wrap(node: &mut Node, layer: &super::middleware::Layer) {
            for (_, h) in &mut node.methods {
                *h = layer(h.clone());
            }
            for (_, child) in &mut node.statics {
                wrap(child, layer);
            }
            if let Some(p) = &mut node.param {
                wrap(&mut p.1, layer);
            }
        }
        wrap(&mut self.root, &layer);
        self
    }

    /// Finds the handler for `req`, setting its route parameters.
    pub fn route_request(&self, req: &mut Request) -> Route {
        match self.resolve(req) {
            Resolved::Found(h) => Route::Found(h.clone()),
            Resolved::MethodNotAllowed(node) => Route::MethodNotAllowed(node.allowed()),
            Resolved::NotFound => Route::NotFound,
        }
    }

    /// [`route_request`](Self::route_request) without cloning the handler:
    /// the request path is walked as bytes (a request-target is visible
    /// ASCII, RFC 9112 §3.2), and route parameters are set on `req`.
    fn resolve(&self, req: &mut Request) -> Resolved<'_> {
        let mut params = Params::default();
        let path = req.head().path();
        let Some(node) = find(&self.root, path, 0, &mut params) else {
            return Resolved::NotFound;
        };
        let method = req.method();
        let found = node.methods.iter().find(|(m, _)| *m == method).or_else(|| {
            (method == Method::Head)
                .then(|| node.methods.iter().find(|(m, _)| *m == Method::Get))
                .flatten()
        });
        match found {
            Some((_, h)) => {
                if params.len() > 0 {
                    req.set_params(params);
                }
                Resolved::Found(h)
            }
            None => Resolved::MethodNotAllowed(node),
        }
    }

    /// Routes and runs `req`, answering 404 and 405 itself.
    pub async fn dispatch(&self, req: Request) -> Response {
        match self.start(req) {
            Started::Done(resp) => resp,
            Started::Running(fut) => fut.await,
        }
    }

    /// Routes `req` and calls its handler (without polling the future it
    /// returns), or answers 404 and 405. Synchronous, so the connection
    /// loops keep only the small [`HandlerFuture`] across their awaits.
    pub(crate) fn start(&self, mut req: Request) -> Started {
        match self.resolve(&mut req) {
            Resolved::Found(h) => Started::Running(h(req)),
            Resolved::NotFound => Started::Done(
                Response::status(StatusCode::NOT_FOUND)
                    .content_type("text/plain; charset=utf-8")
                    .body("Not Found"),
            ),
            Resolved::MethodNotAllowed(node) => {
                let allow: Vec<&str> = node.allowed().iter().filter_map(|m| m.as_str()).collect();
                Started::Done(
                    Response::status(StatusCode::METHOD_NOT_ALLOWED)
                        .header("allow", allow.join(", ").into_bytes())
                        .content_type("text/plain; charset=utf-8")
                        .body("Method Not Allowed"),
                )
            }
        }
    }
}

fn segments(path: &str) -> impl Iterator<Item = &str> {
    path.split('/').filter(|s| !s.is_empty())
}

/// What [`Router::resolve`] found, borrowed from the router.
enum Resolved<'a> {
    Found(&'a Handler),
    MethodNotAllowed(&'a Node),
    NotFound,
}

impl Node {
    /// The methods this route answers.
    fn allowed(&self) -> Vec<Method> {
        self.methods.iter().map(|(m, _)| *m).collect()
    }
}

/// Walks the trie from `node` over `path[pos..]`, one `/`-separated
/// segment per level (empty segments skipped); backtracks from a static
/// branch to the parameter branch when the static one dead-ends.
fn find<'a>(node: &'a Node, path: &[u8], pos: usize, params: &mut Params) -> Option<&'a Node> {
    let mut start = pos.min(path.len());
    while path.get(start) == Some(&b'/') {
        start += 1;
    }
    if start == path.len() {
        // Only nodes that end a route match; inner nodes are 404.
        return (!node.methods.is_empty()).then_some(node);
    }
    let end = path[start..]
        .iter()
        .position(|&b| b == b'/')
        .map_or(path.len(), |i| start + i);
    let seg = &path[start..end];
    if let Some((_, child)) = node.statics.iter().find(|(s, _)| s.as_bytes() == seg) {
        if let Some(found) = find(child, path, end, params) {
            return Some(found);
        }
    }
    if let Some(p) = &node.param {
        let mark = params.len();
        params.push(p.0.clone(), start, end);
        if let Some(found) = find(&p.1, path, end, params) {
            return Some(found);
        }
        params.truncate(mark);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lookup<'a>(r: &'a Router, path: &str) -> Option<(&'a Node, Vec<(String, String)>)> {
        let mut params = Params::default();
        let node = find(&r.root, path.as_bytes(), 0, &mut params)?;
        let got = params
            .items_for_test()
            .map(|(n, s, e)| (n.to_string(), path[s..e].to_string()))
            .collect();
        Some((node, got))
    }

    #[test]
    fn static_beats_param_and_params_are_captured() {
        let r = Router::new()
            .get("/users/me", |_r: Request| async { "me" })
            .get("/users/:id", |_r: Request| async { "id" })
            .get("/users/:id/posts/:post", |_r: Request| async { "post" })
            .get("/", |_r: Request| async { "root" });
        let (n, p) = lookup(&r, "/users/me").unwrap();
        assert!(!n.methods.is_empty());
        assert!(p.is_empty());
        let (_, p) = lookup(&r, "/users/42").unwrap();
        assert_eq!(p, [("id".to_string(), "42".to_string())]);
        let (_, p) = lookup(&r, "/users/me/posts/7").unwrap();
        assert_eq!(
            p,
            [
                ("id".to_string(), "me".to_string()),
                ("post".to_string(), "7".to_string())
            ]
        );
        assert!(lookup(&r, "/").is_some());
        assert!(lookup(&r, "/nope").is_none());
        // An inner node of the trie is not a route.
        assert!(lookup(&r, "/users/42/posts").is_none());
    }

    #[test]
    #[should_panic(expected = "conflicting parameter names")]
    fn conflicting_param_names_panic() {
        let _ = Router::new()
            .get("/a/:x", |_r: Request| async { "" })
            .get("/a/:y/b", |_r: Request| async { "" });
    }
}
