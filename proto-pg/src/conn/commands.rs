//! The command verbs: each writes its messages at once and queues the
//! steps its responses will arrive for ("Simple Query" 55.2.2, "Extended
//! Query" 55.2.3, "COPY Operations" 55.2.6).

use bytes::BytesMut;

use super::Connection;
use super::Step;
use super::state::{CopyMode, Expect, Phase};
use crate::error::{EncodeError, UsageError};
use crate::event::{Event, ReqId};
use crate::message::frontend::{self, IsNull, Target};
use crate::message::{Format, Oid};
use crate::types::ToSql;

impl Connection {
    fn check_ready(&self) -> Result<(), UsageError> {
        match self.phase {
            Phase::Ready if self.copy_in.is_some() => Err(UsageError::CopyInProgress),
            Phase::Ready => Ok(()),
            Phase::Closed | Phase::Failed => Err(UsageError::Closed),
            _ => Err(UsageError::NotReady),
        }
    }

    /// Queues a request made of `steps`, whose messages `encode` writes.
    fn request(
        &mut self,
        steps: &[Expect],
        encode: impl FnOnce(&mut BytesMut) -> Result<(), EncodeError>,
    ) -> Result<ReqId, UsageError> {
        self.check_ready()?;
        let start = self.tx.len();
        if let Err(e) = encode(&mut self.tx) {
            self.tx.truncate(start);
            return Err(e.into());
        }
        let id = ReqId(self.next_id);
        self.next_id += 1;
        let ends_with_sync = steps.last() == Some(&Expect::Sync);
        if let Some(err) = &self.block_failed {
            // The server is skipping this block: the request fails now.
            self.events.push_back(Event::Failed {
                id,
                error: err.clone(),
                skipped: true,
            });
            if ends_with_sync {
                self.steps.push_back(Step {
                    id,
                    expect: Expect::Sync,
                    last: true,
                    silent: true,
                    error: None,
                });
            }
        } else {
            for (i, e) in steps.iter().enumerate() {
                self.steps.push_back(Step {
                    id,
                    expect: *e,
                    last: i + 1 == steps.len(),
                    silent: false,
                    error: None,
                });
            }
        }
        if ends_with_sync {
            self.open_block = false;
            self.block_failed = None;
        } else if steps
            .iter()
            .any(|e| !matches!(e, Expect::Query(_) | Expect::FunctionCall))
        {
            self.open_block = true;
        }
        Ok(id)
    }

    /// Sends a simple `Query` (one or more `;`-separated statements, text
    /// results). Not allowed while an extended-query block is open.
    pub fn simple_query(&mut self, sql: &str) -> Result<ReqId, UsageError> {
        self.check_ready()?;
        if self.open_block {
            return Err(UsageError::OpenSyncBlock);
        }
        self.request(&[Expect::Query(CopyMode::No)], |b| frontend::query(b, sql))
    }

    /// `Parse` then `Describe` of the statement: events
    /// `ParameterDescription` and `RowDescription` or `NoData`. Opens a
    /// sync block.
    pub fn prepare(
        &mut self,
        name: &str,
        sql: &str,
        param_types: &[Oid],
    ) -> Result<ReqId, UsageError> {
        self.request(&[Expect::Parse, Expect::DescribeStatement], |b| {
            frontend::parse(b, name, sql, param_types)?;
            frontend::describe(b, Target::Statement, name)
        })
    }

    /// `Parse` alone. Opens a sync block.
    pub fn parse(
        &mut self,
        name: &str,
        sql: &str,
        param_types: &[Oid],
    ) -> Result<ReqId, UsageError> {
        self.request(&[Expect::Parse], |b| {
            frontend::parse(b, name, sql, param_types)
        })
    }

    /// `Bind` with serialized parameters (`None` = NULL). Opens a sync block.
    pub fn bind(
        &mut self,
        portal: &str,
        statement: &str,
        param_formats: &[Format],
        params: &[Option<&[u8]>],
        result_formats: &[Format],
    ) -> Result<ReqId, UsageError> {
        self.request(&[Expect::Bind], |b| {
            frontend::bind(b, portal, statement, param_formats, params, result_formats)
        })
    }

    /// `Bind` with parameters serialized in place by `write_param`.
    pub fn bind_with(
        &mut self,
        portal: &str,
        statement: &str,
        param_formats: &[Format],
        param_count: usize,
        write_param: impl FnMut(usize, &mut BytesMut) -> Result<IsNull, EncodeError>,
        result_formats: &[Format],
    ) -> Result<ReqId, UsageError> {
        self.request(&[Expect::Bind], |b| {
            frontend::bind_with(
                b,
                portal,
                statement,
                param_formats,
                param_count,
                write_param,
                result_formats,
            )
        })
    }

    /// `Bind` of a prepared statement to `portal`, `Execute` of it (at
    /// most `max_rows` rows, 0 = all) and `Sync`, as one request: the
    /// usual one-round-trip execution of a prepared statement ("Extended
    /// Query", 55.2.3). Events: `Row`s, then `CommandComplete`,
    /// `EmptyQuery` or `PortalSuspended`, then one `Done` (with the
    /// transaction status) or one `Failed` (a failed `Bind` makes the
    /// server skip the `Execute`). Sent inside an open extended-query
    /// block, its `Sync` ends that block too: when an earlier message of
    /// the block failed, the server skips this one and it fails with
    /// `skipped: true`.
    #[allow(clippy::too_many_arguments)]
    pub fn bind_execute_sync(
        &mut self,
        portal: &str,
        statement: &str,
        param_formats: &[Format],
        param_count: usize,
        write_param: impl FnMut(usize, &mut BytesMut) -> Result<IsNull, EncodeError>,
        result_formats: &[Format],
        max_rows: u32,
    ) -> Result<ReqId, UsageError> {
        self.request(
            &[Expect::Bind, Expect::Execute(CopyMode::No), Expect::Sync],
            |b| {
                frontend::bind_with(
                    b,
                    portal,
                    statement,
                    param_formats,
                    param_count,
                    write_param,
                    result_formats,
                )?;
                frontend::execute(b, portal, max_rows)?;
                frontend::sync(b);
                Ok(())
            },
        )
    }

    /// `Describe` of a statement: `ParameterDescription`, then
    /// `RowDescription` or `NoData`.
    pub fn describe_statement(&mut self, name: &str) -> Result<ReqId, UsageError> {
        self.request(&[Expect::DescribeStatement], |b| {
            frontend::describe(b, Target::Statement, name)
        })
    }

    /// `Describe` of a portal: `RowDescription` or `NoData`.
    pub fn describe_portal(&mut self, name: &str) -> Result<ReqId, UsageError> {
        self.request(&[Expect::DescribeRows], |b| {
            frontend::describe(b, Target::Portal, name)
        })
    }

    /// `Execute` of a portal, at most `max_rows` rows (0 = all). Events:
    /// `Row`s, then `CommandComplete`, `EmptyQuery` or `PortalSuspended`.
    pub fn execute(&mut self, portal: &str, max_rows: u32) -> Result<ReqId, UsageError> {
        self.request(&[Expect::Execute(CopyMode::No)], |b| {
            frontend::execute(b, portal, max_rows)
        })
    }

    /// `Close` of a prepared statement.
    pub fn close_statement(&mut self, name: &str) -> Result<ReqId, UsageError> {
        self.request(&[Expect::Close], |b| {
            frontend::close(b, Target::Statement, name)
        })
    }

    /// `Close` of a portal.
    pub fn close_portal(&mut self, name: &str) -> Result<ReqId, UsageError> {
        self.request(&[Expect::Close], |b| {
            frontend::close(b, Target::Portal, name)
        })
    }

    /// `Sync`: ends the sync block; `Done` carries the transaction status.
    pub fn sync(&mut self) -> Result<ReqId, UsageError> {
        self.request(&[Expect::Sync], |b| {
            frontend::sync(b);
            Ok(())
        })
    }

    /// `Flush`: asks the server to send what it has buffered (useful
    /// before a `Sync` when results are wanted early).
    pub fn flush(&mut self) -> Result<(), UsageError> {
        self.check_ready()?;
        frontend::flush(&mut self.tx);
        Ok(())
    }

    /// One self-contained extended query: `Parse` (unnamed), `Bind`,
    /// `Describe` portal, `Execute` and `Sync`, as one request. Events:
    /// `RowDescription` or `NoData`, `Row`s, `CommandComplete`, `Done`.
    pub fn query(
        &mut self,
        sql: &str,
        param_types: &[Oid],
        param_formats: &[Format],
        params: &[Option<&[u8]>],
        result_formats: &[Format],
    ) -> Result<ReqId, UsageError> {
        self.query_with(
            sql,
            param_types,
            param_formats,
            params.len(),
            |i, b| match params[i] {
                Some(v) => {
                    b.extend_from_slice(v);
                    Ok(IsNull::No)
                }
                None => Ok(IsNull::Yes),
            },
            result_formats,
        )
    }

    /// [`Connection::query`] with parameters serialized in place.
    pub fn query_with(
        &mut self,
        sql: &str,
        param_types: &[Oid],
        param_formats: &[Format],
        param_count: usize,
        write_param: impl FnMut(usize, &mut BytesMut) -> Result<IsNull, EncodeError>,
        result_formats: &[Format],
    ) -> Result<ReqId, UsageError> {
        self.request(
            &[
                Expect::Parse,
                Expect::Bind,
                Expect::DescribeRows,
                Expect::Execute(CopyMode::No),
                Expect::Sync,
            ],
            |b| {
                frontend::parse(b, "", sql, param_types)?;
                frontend::bind_with(
                    b,
                    "",
                    "",
                    param_formats,
                    param_count,
                    write_param,
                    result_formats,
                )?;
                frontend::describe(b, Target::Portal, "")?;
                frontend::execute(b, "", 0)?;
                frontend::sync(b);
                Ok(())
            },
        )
    }

    /// [`Connection::query`] with typed parameters: each parameter's type
    /// OID comes from [`ToSql::type_oid`] (0, "infer", for a `None`), and
    /// parameters and results all use `format`.
    pub fn query_typed(
        &mut self,
        sql: &str,
        params: &[&dyn ToSql],
        format: Format,
    ) -> Result<ReqId, UsageError> {
        let types: Vec<Oid> = params.iter().map(|p| p.type_oid()).collect();
        self.query_with(
            sql,
            &types,
            &[format],
            params.len(),
            |i, b| Ok(params[i].to_sql_checked(types[i], format, b)?),
            &[format],
        )
    }

    /// Calls function `function` (by OID) through the legacy fast-path
    /// `FunctionCall` message. Events: `FunctionResult`, then `Done` (or
    /// `Failed`). Like a simple query, not allowed inside an open
    /// extended-query block.
    pub fn function_call(
        &mut self,
        function: Oid,
        arg_formats: &[Format],
        args: &[Option<&[u8]>],
        result_format: Format,
    ) -> Result<ReqId, UsageError> {
        self.check_ready()?;
        if self.open_block {
            return Err(UsageError::OpenSyncBlock);
        }
        self.request(&[Expect::FunctionCall], |b| {
            frontend::function_call(b, function, arg_formats, args, result_format)
        })
    }

    /// Sends a chunk of COPY FROM STDIN data.
    pub fn copy_data(&mut self, data: &[u8]) -> Result<(), UsageError> {
        if self.copy_in.is_none() {
            return Err(UsageError::NotCopying);
        }
        frontend::copy_data(&mut self.tx, data)?;
        Ok(())
    }

    /// Ends COPY FROM STDIN successfully.
    pub fn copy_done(&mut self) -> Result<(), UsageError> {
        if self.copy_in.is_none() {
            return Err(UsageError::NotCopying);
        }
        frontend::copy_done(&mut self.tx);
        self.end_copy_in();
        Ok(())
    }

    /// Aborts COPY FROM STDIN; the request fails with the server's error.
    pub fn copy_fail(&mut self, reason: &str) -> Result<(), UsageError> {
        if self.copy_in.is_none() {
            return Err(UsageError::NotCopying);
        }
        frontend::copy_fail(&mut self.tx, reason)?;
        self.end_copy_in();
        Ok(())
    }

    fn end_copy_in(&mut self) {
        self.copy_in = None;
        // "The backend will ignore Flush and Sync messages received during
        // copy-in mode" (55.2.6): a Sync pipelined behind the COPY's
        // Execute was swallowed, so send it again.
        let mut it = self.steps.iter();
        if let (Some(front), Some(next)) = (it.next(), it.next())
            && matches!(front.expect, Expect::Execute(CopyMode::In))
            && next.expect == Expect::Sync
        {
            frontend::sync(&mut self.tx);
        }
    }

    /// Sends `Terminate`; the connection is closed afterwards and pending
    /// requests are dropped.
    pub fn terminate(&mut self) {
        if matches!(self.phase, Phase::Closed | Phase::Failed) {
            return;
        }
        frontend::terminate(&mut self.tx);
        self.phase = Phase::Closed;
        self.steps.clear();
        self.copy_in = None;
    }
}
