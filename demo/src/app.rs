//! The demo's [`Router`]: every route, over the drivers in [`Drivers`].
//!
//! A driver failure (database or cache down, pool timeout) answers `503`
//! with a short body; the pools reconnect by themselves when the service is
//! back, so the next request succeeds without a restart.

use std::fmt;

use weft::http::{Request, Response, Router, StatusCode};
use weft::rt::{Backend, join_all};
use weft::{memcache, pg, redis};

use crate::techempower::{self, Fortune, World};

/// Where the services are, as the demo's flags and the tests' variables
/// give them.
#[derive(Debug, Clone)]
pub struct Services {
    /// A PostgreSQL DSN (URL or key=value).
    pub pg: String,
    /// A `redis://` URL.
    pub redis: String,
    /// memcached servers, comma-separated `host:port`.
    pub memcached: String,
}

impl Services {
    /// From `WEFT_PG_HOST`, `WEFT_PG_PORT`, `WEFT_PG_DB`, `WEFT_REDIS_ADDR`
    /// and `WEFT_MEMCACHED_ADDRS` (what `cargo xtask services env` prints),
    /// with the ports `cargo xtask services up` uses as defaults.
    pub fn from_env() -> Services {
        let var = |name: &str, default: &str| {
            std::env::var(name)
                .ok()
                .filter(|v| !v.is_empty())
                .unwrap_or_else(|| default.to_string())
        };
        Services {
            pg: format!(
                "host={} port={} user=weft dbname={} application_name=weft-demo",
                var("WEFT_PG_HOST", "127.0.0.1"),
                var("WEFT_PG_PORT", "54329"),
                var("WEFT_PG_DB", "weft"),
            ),
            redis: format!("redis://{}/", var("WEFT_REDIS_ADDR", "127.0.0.1:63790")),
            memcached: var("WEFT_MEMCACHED_ADDRS", "127.0.0.1:11311"),
        }
    }
}

/// A configuration error in [`Services`].
#[derive(Debug)]
pub struct ConfigError(String);

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ConfigError {}

/// The three drivers, on backend `B` (the server's: their sockets live on
/// the worker loop of the request that uses them). Cheap to clone; every
/// clone shares the per-worker pools.
pub struct Drivers<B: Backend> {
    pg: pg::Client<B>,
    redis: redis::Client<B>,
    mc: memcache::Client<B>,
}

impl<B: Backend> Clone for Drivers<B> {
    fn clone(&self) -> Self {
        Drivers {
            pg: self.pg.clone(),
            redis: self.redis.clone(),
            mc: self.mc.clone(),
        }
    }
}

impl<B: Backend> Drivers<B> {
    /// Clients for `services`; nothing connects until the first request.
    pub fn new(services: &Services) -> Result<Self, ConfigError> {
        let err = |what: &str, e: &dyn fmt::Display| ConfigError(format!("{what}: {e}"));
        let pg = pg::Config::parse(&services.pg).map_err(|e| err("PostgreSQL DSN", &e))?;
        let redis = redis::Config::from_url(&services.redis).map_err(|e| err("Redis URL", &e))?;
        let mc = memcache::Config::from_addrs(&services.memcached)
            .map_err(|e| err("memcached servers", &e))?;
        Ok(Drivers {
            pg: pg::Client::with_backend(pg),
            redis: redis::Client::with_backend(redis),
            mc: memcache::Client::with_backend(mc).map_err(|e| err("memcached", &e))?,
        })
    }

    /// The PostgreSQL client.
    pub fn pg(&self) -> &pg::Client<B> {
        &self.pg
    }

    /// The Redis client.
    pub fn redis(&self) -> &redis::Client<B> {
        &self.redis
    }

    /// The memcached client.
    pub fn memcache(&self) -> &memcache::Client<B> {
        &self.mc
    }
}

/// What a failed driver call answers: `503` and which service failed.
fn unavailable(service: &str, e: &dyn fmt::Display) -> Response {
    Response::status(StatusCode::SERVICE_UNAVAILABLE)
        .content_type(techempower::TEXT)
        .body(format!("{service} unavailable: {e}\n"))
}

fn plaintext() -> Response {
    Response::status(StatusCode::OK)
        .content_type(techempower::TEXT)
        .body(techempower::PLAINTEXT)
}

/// One `world` row by id, on this worker's shared PostgreSQL connection.
async fn world<B: Backend>(pg: &pg::Client<B>, id: i32) -> Result<World, pg::Error> {
    let row = pg.query_one(techempower::SELECT_WORLD, &[&id]).await?;
    Ok(World {
        id: row.get(0)?,
        random_number: row.get(1)?,
    })
}

/// `n` random rows, the queries pipelined on the worker's shared connection.
async fn random_worlds<B: Backend>(pg: &pg::Client<B>, n: usize) -> Result<Vec<World>, pg::Error> {
    join_all((0..n).map(|_| world(pg, techempower::random_id())))
        .await
        .into_iter()
        .collect()
}

async fn db<B: Backend>(d: &Drivers<B>) -> Result<Vec<u8>, pg::Error> {
    Ok(techempower::world_json(
        &world(&d.pg, techempower::random_id()).await?,
    ))
}

async fn queries<B: Backend>(d: &Drivers<B>, q: Option<&str>) -> Result<Vec<u8>, pg::Error> {
    let worlds = random_worlds(&d.pg, techempower::query_count(q)).await?;
    Ok(techempower::worlds_json(&worlds))
}

async fn updates<B: Backend>(d: &Drivers<B>, q: Option<&str>) -> Result<Vec<u8>, pg::Error> {
    let mut worlds = random_worlds(&d.pg, techempower::query_count(q)).await?;
    for w in &mut worlds {
        w.random_number = techempower::random_id();
    }
    let params = techempower::update_params(&mut worlds);
    let params: Vec<&dyn pg::ToSql> = params.iter().map(|p| p as &dyn pg::ToSql).collect();
    d.pg.execute(techempower::update_sql(worlds.len()).as_str(), &params)
        .await?;
    Ok(techempower::worlds_json(&worlds))
}

async fn fortunes<B: Backend>(d: &Drivers<B>) -> Result<Vec<u8>, pg::Error> {
    let rows = d.pg.query(techempower::SELECT_FORTUNES, &[]).await?;
    let fortunes = rows
        .iter()
        .map(|r| {
            Ok(Fortune {
                id: r.get(0)?,
                message: r.get::<&str>(1)?.to_string(),
            })
        })
        .collect::<Result<Vec<_>, pg::Error>>()?;
    Ok(techempower::fortunes_html(fortunes))
}

/// A world row as the cache routes store it.
async fn world_body<B: Backend>(d: &Drivers<B>, id: i32) -> Result<Vec<u8>, Response> {
    let w = world(&d.pg, id)
        .await
        .map_err(|e| unavailable("PostgreSQL", &e))?;
    Ok(techempower::world_json(&w))
}

/// `/cache/:key`: Redis `GET`; on a miss the world row, then `SET`.
async fn cache<B: Backend>(d: &Drivers<B>, key: Option<&str>) -> Result<Response, Response> {
    let Some(id) = key.and_then(techempower::cache_id) else {
        return Ok(Response::status(StatusCode::NOT_FOUND));
    };
    let cache_key = techempower::cache_key(id);
    let hit: Option<bytes::Bytes> = redis::Commands::get(&d.redis, cache_key.as_str())
        .await
        .map_err(|e| unavailable("Redis", &e))?;
    if let Some(hit) = hit {
        return Ok(Response::json(hit));
    }
    let body = world_body(d, id).await?;
    let () = redis::Commands::set(&d.redis, cache_key.as_str(), body.as_slice())
        .await
        .map_err(|e| unavailable("Redis", &e))?;
    Ok(Response::json(body))
}

/// `/mc/:key`: memcached `get`; on a miss the world row, then `set`.
async fn mc<B: Backend>(d: &Drivers<B>, key: Option<&str>) -> Result<Response, Response> {
    let Some(id) = key.and_then(techempower::cache_id) else {
        return Ok(Response::status(StatusCode::NOT_FOUND));
    };
    let cache_key = techempower::cache_key(id);
    let hit =
        d.mc.get(&cache_key)
            .await
            .map_err(|e| unavailable("memcached", &e))?;
    if let Some(item) = hit {
        return Ok(Response::json(item.value));
    }
    let body = world_body(d, id).await?;
    d.mc.set(&cache_key, &body, memcache::StoreOptions::default())
        .await
        .map_err(|e| unavailable("memcached", &e))?;
    Ok(Response::json(body))
}

/// The body as JSON, or `503` naming PostgreSQL.
fn json_or_503(r: Result<Vec<u8>, pg::Error>) -> Response {
    match r {
        Ok(body) => Response::json(body),
        Err(e) => unavailable("PostgreSQL", &e),
    }
}

/// Every route of the demo, served by `drivers`.
pub fn router<B: Backend>(drivers: Drivers<B>) -> Router {
    let d = drivers;
    let (d1, d2, d3, d4, d5, d6) = (d.clone(), d.clone(), d.clone(), d.clone(), d.clone(), d);
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
        .get("/db", move |_req: Request| {
            let d = d1.clone();
            async move { json_or_503(db(&d).await) }
        })
        .get("/queries", move |req: Request| {
            let d = d2.clone();
            async move { json_or_503(queries(&d, req.query_param("q")).await) }
        })
        .get("/updates", move |req: Request| {
            let d = d3.clone();
            async move { json_or_503(updates(&d, req.query_param("q")).await) }
        })
        .get("/fortunes", move |_req: Request| {
            let d = d4.clone();
            async move {
                match fortunes(&d).await {
                    Ok(page) => Response::html(page),
                    Err(e) => unavailable("PostgreSQL", &e),
                }
            }
        })
        .get("/cache/:key", move |req: Request| {
            let d = d5.clone();
            async move { cache(&d, req.param("key")).await.unwrap_or_else(|e| e) }
        })
        .get("/mc/:key", move |req: Request| {
            let d = d6.clone();
            async move { mc(&d, req.param("key")).await.unwrap_or_else(|e| e) }
        })
}
