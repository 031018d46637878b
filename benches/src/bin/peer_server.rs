//! The peer side of the benchmark matrix: the demo's routes served by
//! axum (on a multi-threaded tokio runtime) or actix-web (a single-threaded
//! runtime per worker), with the drivers people pair them with:
//! tokio-postgres behind deadpool-postgres, redis-rs's multiplexed
//! connection and the `memcache` crate (blocking, so its calls go through
//! `spawn_blocking`).
//!
//! ```text
//! peer_server --framework axum|actix [--addr 127.0.0.1:8090] [--workers N]
//! ```
//!
//! Services come from the same variables as the tests (`WEFT_PG_HOST`,
//! `WEFT_PG_PORT`, `WEFT_PG_DB`, `WEFT_REDIS_ADDR`, `WEFT_MEMCACHED_ADDRS`;
//! the first memcached address is used). The routes and their answers are
//! those of the `weft-demo` crate, computed by `weft_demo::techempower`.

use std::net::SocketAddr;
use std::sync::Arc;

use weft_demo::techempower::{self, Fortune, World};

/// The drivers one worker (actix) or the whole process (axum) uses.
struct Drivers {
    pg: deadpool_postgres::Pool,
    redis: redis::aio::MultiplexedConnection,
    memcache: Arc<memcache::Client>,
}

/// A failed driver call: the demo's routes answer 503 with a short body.
struct Unavailable(String);

impl<E: std::fmt::Display> From<E> for Unavailable {
    fn from(e: E) -> Self {
        Unavailable(e.to_string())
    }
}

impl Drivers {
    async fn connect(pool_size: usize) -> Drivers {
        let env = |name: &str, default: &str| {
            std::env::var(name)
                .ok()
                .filter(|v| !v.is_empty())
                .unwrap_or_else(|| default.to_string())
        };
        let mut pg = deadpool_postgres::Config::new();
        pg.host = Some(env("WEFT_PG_HOST", "127.0.0.1"));
        pg.port = env("WEFT_PG_PORT", "54329").parse().ok();
        pg.dbname = Some(env("WEFT_PG_DB", "weft"));
        pg.user = Some("weft".into());
        pg.pool = Some(deadpool_postgres::PoolConfig::new(pool_size));
        let pg = pg
            .create_pool(
                Some(deadpool_postgres::Runtime::Tokio1),
                tokio_postgres::NoTls,
            )
            .expect("postgres pool");
        let redis_url = format!("redis://{}/", env("WEFT_REDIS_ADDR", "127.0.0.1:63790"));
        let redis = redis::Client::open(redis_url)
            .expect("redis url")
            .get_multiplexed_async_connection()
            .await
            .expect("redis connection");
        let mc_addr = env("WEFT_MEMCACHED_ADDRS", "127.0.0.1:11311");
        let mc_addr = mc_addr.split(',').next().unwrap_or_default().to_string();
        let memcache = tokio::task::spawn_blocking(move || {
            memcache::Client::with_pool_size(format!("memcache://{mc_addr}"), pool_size as u32)
        })
        .await
        .expect("memcache connect task")
        .expect("memcache connection");
        Drivers {
            pg,
            redis,
            memcache: Arc::new(memcache),
        }
    }

    async fn world(
        &self,
        client: &deadpool_postgres::Object,
        id: i32,
    ) -> Result<World, Unavailable> {
        let stmt = client.prepare_cached(techempower::SELECT_WORLD).await?;
        let row = client.query_one(&stmt, &[&id]).await?;
        Ok(World {
            id: row.get(0),
            random_number: row.get(1),
        })
    }

    async fn db(&self) -> Result<Vec<u8>, Unavailable> {
        let client = self.pg.get().await?;
        let w = self.world(&client, techempower::random_id()).await?;
        Ok(techempower::world_json(&w))
    }

    async fn queries(&self, q: Option<&str>) -> Result<Vec<u8>, Unavailable> {
        let n = techempower::query_count(q);
        let client = self.pg.get().await?;
        let mut worlds = Vec::with_capacity(n);
        // tokio-postgres pipelines the concurrent queries of one client.
        let futures = (0..n).map(|_| self.world(&client, techempower::random_id()));
        for w in futures_util::future::join_all(futures).await {
            worlds.push(w?);
        }
        Ok(techempower::worlds_json(&worlds))
    }

    async fn updates(&self, q: Option<&str>) -> Result<Vec<u8>, Unavailable> {
        let n = techempower::query_count(q);
        let client = self.pg.get().await?;
        let futures = (0..n).map(|_| self.world(&client, techempower::random_id()));
        let mut worlds = Vec::with_capacity(n);
        for w in futures_util::future::join_all(futures).await {
            let mut w = w?;
            w.random_number = techempower::random_id();
            worlds.push(w);
        }
        let sql = techempower::update_sql(worlds.len());
        let stmt = client.prepare_cached(&sql).await?;
        let params = techempower::update_params(&mut worlds);
        let params: Vec<&(dyn tokio_postgres::types::ToSql + Sync)> = params
            .iter()
            .map(|p| p as &(dyn tokio_postgres::types::ToSql + Sync))
            .collect();
        client.execute(&stmt, &params).await?;
        Ok(techempower::worlds_json(&worlds))
    }

    async fn fortunes(&self) -> Result<Vec<u8>, Unavailable> {
        let client = self.pg.get().await?;
        let stmt = client.prepare_cached(techempower::SELECT_FORTUNES).await?;
        let rows = client.query(&stmt, &[]).await?;
        let fortunes = rows
            .iter()
            .map(|r| Fortune {
                id: r.get(0),
                message: r.get::<_, String>(1),
            })
            .collect();
        Ok(techempower::fortunes_html(fortunes))
    }

    async fn cache(&self, key: &str) -> Result<Option<Vec<u8>>, Unavailable> {
        let Some(id) = techempower::cache_id(key) else {
            return Ok(None);
        };
        let cache_key = techempower::cache_key(id);
        let mut redis = self.redis.clone();
        let hit: Option<Vec<u8>> = redis::AsyncCommands::get(&mut redis, &cache_key).await?;
        if let Some(hit) = hit {
            return Ok(Some(hit));
        }
        let client = self.pg.get().await?;
        let body = techempower::world_json(&self.world(&client, id).await?);
        let () = redis::AsyncCommands::set(&mut redis, &cache_key, &body).await?;
        Ok(Some(body))
    }

    async fn mc(&self, key: &str) -> Result<Option<Vec<u8>>, Unavailable> {
        let Some(id) = techempower::cache_id(key) else {
            return Ok(None);
        };
        let cache_key = techempower::cache_key(id);
        let mc = self.memcache.clone();
        let k = cache_key.clone();
        let hit: Option<Vec<u8>> =
            tokio::task::spawn_blocking(move || mc.get::<Vec<u8>>(&k)).await??;
        if let Some(hit) = hit {
            return Ok(Some(hit));
        }
        let client = self.pg.get().await?;
        let body = techempower::world_json(&self.world(&client, id).await?);
        let mc = self.memcache.clone();
        let value = body.clone();
        tokio::task::spawn_blocking(move || mc.set(&cache_key, &value[..], 0)).await??;
        Ok(Some(body))
    }
}

/// Command-line options.
struct Options {
    framework: String,
    addr: SocketAddr,
    workers: usize,
}

fn options() -> Options {
    let mut o = Options {
        framework: "axum".into(),
        addr: "127.0.0.1:8090".parse().expect("default address"),
        workers: std::thread::available_parallelism().map_or(1, |n| n.get()),
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let v = it.next().map(String::as_str).unwrap_or_default();
        match a.as_str() {
            "--framework" => o.framework = v.into(),
            "--addr" => o.addr = v.parse().expect("--addr IP:PORT"),
            "--workers" => o.workers = v.parse().expect("--workers N"),
            other => panic!("unknown argument {other}"),
        }
    }
    o
}

fn main() {
    let o = options();
    match o.framework.as_str() {
        "axum" => axum_server::run(o),
        "actix" => actix_server::run(o),
        other => panic!("--framework {other}: expected axum or actix"),
    }
}

/// axum on a multi-threaded tokio runtime, one set of drivers shared by
/// every worker thread (the way axum applications are usually written).
mod axum_server {
    use std::collections::HashMap;
    use std::sync::Arc;

    use axum::extract::{Path, Query, State};
    use axum::http::{StatusCode, header};
    use axum::response::{IntoResponse, Response};
    use axum::routing::get;

    use super::{Drivers, Options, Unavailable};
    use weft_demo::techempower;

    type Shared = State<Arc<Drivers>>;
    type Params = Query<HashMap<String, String>>;

    fn respond(content_type: &'static str, r: Result<Vec<u8>, Unavailable>) -> Response {
        match r {
            Ok(body) => ([(header::CONTENT_TYPE, content_type)], body).into_response(),
            Err(Unavailable(e)) => (StatusCode::SERVICE_UNAVAILABLE, e).into_response(),
        }
    }

    fn cached(r: Result<Option<Vec<u8>>, Unavailable>) -> Response {
        match r {
            Ok(None) => StatusCode::NOT_FOUND.into_response(),
            Ok(Some(body)) => respond(techempower::JSON, Ok(body)),
            Err(e) => respond(techempower::JSON, Err(e)),
        }
    }

    pub fn run(o: Options) {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(o.workers)
            .enable_all()
            .build()
            .expect("tokio runtime");
        rt.block_on(async move {
            let drivers = Arc::new(Drivers::connect(o.workers * 4).await);
            let app = axum::Router::new()
                .route(
                    "/plaintext",
                    get(|| async { ([(header::CONTENT_TYPE, techempower::TEXT)], techempower::PLAINTEXT) }),
                )
                .route(
                    "/json",
                    get(|| async { respond(techempower::JSON, Ok(techempower::hello_json())) }),
                )
                .route(
                    "/db",
                    get(|State(d): Shared| async move { respond(techempower::JSON, d.db().await) }),
                )
                .route(
                    "/queries",
                    get(|State(d): Shared, Query(p): Params| async move {
                        let q = p.get("q").map(String::as_str);
                        respond(techempower::JSON, d.queries(q).await)
                    }),
                )
                .route(
                    "/updates",
                    get(|State(d): Shared, Query(p): Params| async move {
                        let q = p.get("q").map(String::as_str);
                        respond(techempower::JSON, d.updates(q).await)
                    }),
                )
                .route(
                    "/fortunes",
                    get(|State(d): Shared| async move { respond(techempower::HTML, d.fortunes().await) }),
                )
                .route(
                    "/cache/{key}",
                    get(|State(d): Shared, Path(k): Path<String>| async move { cached(d.cache(&k).await) }),
                )
                .route(
                    "/mc/{key}",
                    get(|State(d): Shared, Path(k): Path<String>| async move { cached(d.mc(&k).await) }),
                )
                .with_state(drivers);
            let listener = tokio::net::TcpListener::bind(o.addr).await.expect("bind");
            println!("axum listening on http://{}", o.addr);
            axum::serve(listener, app).await.expect("serve");
        });
    }
}

/// actix-web: one single-threaded runtime per worker, and drivers built
/// per worker by `data_factory` (actix's idiom for per-worker state).
mod actix_server {
    use std::collections::HashMap;

    use actix_web::http::StatusCode;
    use actix_web::{App, HttpResponse, HttpServer, web};

    use super::{Drivers, Options, Unavailable};
    use weft_demo::techempower;

    type Shared = web::Data<Drivers>;
    type Params = web::Query<HashMap<String, String>>;

    fn respond(content_type: &'static str, r: Result<Vec<u8>, Unavailable>) -> HttpResponse {
        match r {
            Ok(body) => HttpResponse::Ok().content_type(content_type).body(body),
            Err(Unavailable(e)) => HttpResponse::build(StatusCode::SERVICE_UNAVAILABLE).body(e),
        }
    }

    fn cached(r: Result<Option<Vec<u8>>, Unavailable>) -> HttpResponse {
        match r {
            Ok(None) => HttpResponse::NotFound().finish(),
            Ok(Some(body)) => respond(techempower::JSON, Ok(body)),
            Err(e) => respond(techempower::JSON, Err(e)),
        }
    }

    pub fn run(o: Options) {
        let workers = o.workers;
        let system = actix_web::rt::System::new();
        system.block_on(async move {
            println!("actix listening on http://{}", o.addr);
            HttpServer::new(move || {
                App::new()
                    .data_factory(move || async move {
                        Ok::<_, std::convert::Infallible>(Drivers::connect(4).await)
                    })
                    .route(
                        "/plaintext",
                        web::get().to(|| async {
                            HttpResponse::Ok()
                                .content_type(techempower::TEXT)
                                .body(techempower::PLAINTEXT)
                        }),
                    )
                    .route(
                        "/json",
                        web::get().to(|| async {
                            respond(techempower::JSON, Ok(techempower::hello_json()))
                        }),
                    )
                    .route(
                        "/db",
                        web::get().to(|d: Shared| async move {
                            respond(techempower::JSON, d.db().await)
                        }),
                    )
                    .route(
                        "/queries",
                        web::get().to(|d: Shared, p: Params| async move {
                            let q = p.get("q").map(String::as_str);
                            respond(techempower::JSON, d.queries(q).await)
                        }),
                    )
                    .route(
                        "/updates",
                        web::get().to(|d: Shared, p: Params| async move {
                            let q = p.get("q").map(String::as_str);
                            respond(techempower::JSON, d.updates(q).await)
                        }),
                    )
                    .route(
                        "/fortunes",
                        web::get().to(|d: Shared| async move {
                            respond(techempower::HTML, d.fortunes().await)
                        }),
                    )
                    .route(
                        "/cache/{key}",
                        web::get().to(|d: Shared, k: web::Path<String>| async move {
                            cached(d.cache(&k).await)
                        }),
                    )
                    .route(
                        "/mc/{key}",
                        web::get().to(|d: Shared, k: web::Path<String>| async move {
                            cached(d.mc(&k).await)
                        }),
                    )
            })
            .workers(workers)
            .bind(o.addr)
            .expect("bind")
            .run()
            .await
            .expect("serve");
        });
    }
}
