//! Every state transition of the client connection, in one place.
//!
//! Two tables:
//! - [`startup`]: the connection phase during start-up and authentication
//!   ("Message Flow" > "Start-up", 55.2.2 in PG16);
//! - [`step`]: once ready, what each backend message does to the
//!   outstanding step at the front of the FIFO queue ("Simple Query"
//!   55.2.2, "Extended Query" 55.2.3, "COPY Operations" 55.2.6).
//!
//! The tables decide; `conn/mod.rs` carries out the decision (emits
//! events, writes replies). Asynchronous messages (`NoticeResponse`,
//! `NotificationResponse`, `ParameterStatus`) are routed before these
//! tables and never touch a step ("Asynchronous Operations", 55.2.7).

/// Connection phase.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Phase {
    /// `SSLRequest` sent; waiting for the one-byte `S`/`N` answer.
    SslResponse,
    /// `StartupMessage` sent; authentication exchange in progress.
    Auth(AuthStep),
    /// `AuthenticationOk` received; collecting `ParameterStatus` and
    /// `BackendKeyData` until the first `ReadyForQuery`.
    Startup,
    /// Normal operation: requests may be sent.
    Ready,
    /// `Terminate` sent by us.
    Closed,
    /// A fatal error occurred; the error is sticky.
    Failed,
}

/// Where the authentication exchange is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AuthStep {
    /// Waiting for the server's first `Authentication*` request.
    Start,
    /// A cleartext or MD5 password was sent; waiting for `AuthenticationOk`.
    PasswordSent,
    /// `SASLInitialResponse` sent; waiting for `AuthenticationSASLContinue`.
    SaslFirst,
    /// `SASLResponse` sent; waiting for `AuthenticationSASLFinal`.
    SaslFinal,
    /// Server signature verified; waiting for `AuthenticationOk`.
    SaslDone,
}

/// What to do with an `Authentication*` request in a given step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AuthAction {
    /// `AuthenticationOk`: move to [`Phase::Startup`].
    Ok,
    /// Send a cleartext password.
    Cleartext,
    /// Send an MD5 password.
    Md5,
    /// Choose a SASL mechanism and send `SASLInitialResponse`.
    SaslStart,
    /// Answer `AuthenticationSASLContinue`.
    SaslContinue,
    /// Verify `AuthenticationSASLFinal`.
    SaslFinal,
    /// A method this crate refuses.
    Unsupported(&'static str),
    /// Out of sequence.
    Unexpected,
}

/// The start-up table: `(step, authentication code) -> action`. Codes as in
/// "Message Formats" (`AuthenticationOk` = 0, ...). The next step follows
/// from the action once it succeeds (see [`after_auth`]).
pub(crate) fn startup(step: AuthStep, code: i32) -> AuthAction {
    use AuthAction as A;
    use AuthStep as S;
    match (step, code) {
        (S::Start | S::PasswordSent | S::SaslDone, 0) => A::Ok,
        (S::Start, 3) => A::Cleartext,
        (S::Start, 5) => A::Md5,
        (S::Start, 10) => A::SaslStart,
        (S::SaslFirst, 11) => A::SaslContinue,
        (S::SaslFinal, 12) => A::SaslFinal,
        (S::Start, 2) => A::Unsupported("Kerberos V5"),
        (S::Start, 6) => A::Unsupported("SCM credential"),
        (S::Start, 7 | 8) => A::Unsupported("GSSAPI"),
        (S::Start, 9) => A::Unsupported("SSPI"),
        _ => A::Unexpected,
    }
}

/// The phase after a successful authentication action.
pub(crate) fn after_auth(action: AuthAction) -> Phase {
    match action {
        AuthAction::Ok => Phase::Startup,
        AuthAction::Cleartext | AuthAction::Md5 => Phase::Auth(AuthStep::PasswordSent),
        AuthAction::SaslStart => Phase::Auth(AuthStep::SaslFirst),
        AuthAction::SaslContinue => Phase::Auth(AuthStep::SaslFinal),
        AuthAction::SaslFinal => Phase::Auth(AuthStep::SaslDone),
        AuthAction::Unsupported(_) | AuthAction::Unexpected => Phase::Failed,
    }
}

/// COPY sub-state of a query or execute step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CopyMode {
    /// Not copying.
    No,
    /// `CopyInResponse` received: the client sends data.
    In,
    /// `CopyOutResponse` received: the server sends data.
    Out,
}

/// What an outstanding step is waiting for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Expect {
    /// A simple `Query`: any number of results, then `ReadyForQuery`.
    Query(CopyMode),
    /// `Parse` -> `ParseComplete`.
    Parse,
    /// `Bind` -> `BindComplete`.
    Bind,
    /// `Describe` statement -> `ParameterDescription`, then rows.
    DescribeStatement,
    /// `Describe` portal (or the second half of a statement's) ->
    /// `RowDescription` or `NoData`.
    DescribeRows,
    /// `Execute` -> rows then `CommandComplete` / `EmptyQueryResponse` /
    /// `PortalSuspended`, possibly through COPY.
    Execute(CopyMode),
    /// `Close` -> `CloseComplete`.
    Close,
    /// `Sync` -> `ReadyForQuery`.
    Sync,
    /// `FunctionCall` -> `FunctionCallResponse` or `ErrorResponse`, then
    /// `ReadyForQuery` ("Function Call", 55.2.9).
    FunctionCall,
}

/// The outcome of a backend message for the front step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// The step continues, now expecting this.
    Stay(Expect),
    /// The step is complete; pop it.
    Complete,
    /// `ErrorResponse` for an extended step: pop it, fail its request and
    /// every request up to the next `Sync` (the server skips them).
    Fail,
    /// `ErrorResponse` for a step that still ends in `ReadyForQuery`
    /// (simple query, sync): remember it, keep waiting.
    FailLater(Expect),
    /// The message is not allowed here: protocol violation.
    Unexpected,
}

/// The request table: `(expect, message type byte) -> outcome`.
pub(crate) fn step(expect: Expect, tag: u8) -> Outcome {
    use CopyMode as C;
    use Expect as X;
    use Outcome as O;
    match (expect, tag) {
        // Simple query (55.2.2): per statement RowDescription, DataRow*,
        // CommandComplete, or EmptyQueryResponse, or a COPY; then Z.
        (X::Query(C::No), b'T' | b'D' | b'C' | b'I') => O::Stay(X::Query(C::No)),
        (X::Query(C::No), b'G') => O::Stay(X::Query(C::In)),
        (X::Query(C::No), b'H') => O::Stay(X::Query(C::Out)),
        (X::Query(C::Out), b'd' | b'c') => O::Stay(X::Query(C::Out)),
        (X::Query(C::In | C::Out), b'C') => O::Stay(X::Query(C::No)),
        (X::Query(_), b'E') => O::FailLater(X::Query(C::No)),
        (X::Query(C::No), b'Z') => O::Complete,

        // Extended query (55.2.3).
        (X::Parse, b'1') => O::Complete,
        (X::Bind, b'2') => O::Complete,
        (X::Close, b'3') => O::Complete,
        (X::DescribeStatement, b't') => O::Stay(X::DescribeRows),
        (X::DescribeRows, b'T' | b'n') => O::Complete,
        (X::Execute(C::No), b'D') => O::Stay(X::Execute(C::No)),
        (X::Execute(C::No), b'C' | b'I' | b's') => O::Complete,
        (X::Execute(C::No), b'G') => O::Stay(X::Execute(C::In)),
        (X::Execute(C::No), b'H') => O::Stay(X::Execute(C::Out)),
        (X::Execute(C::Out), b'd' | b'c') => O::Stay(X::Execute(C::Out)),
        (X::Execute(C::In | C::Out), b'C') => O::Complete,
        (X::Sync, b'Z') => O::Complete,

        // Function call (55.2.9).
        (X::FunctionCall, b'V') => O::Stay(X::FunctionCall),
        (X::FunctionCall, b'E') => O::FailLater(X::FunctionCall),
        (X::FunctionCall, b'Z') => O::Complete,
        // An error at Sync itself (e.g. the implicit commit failed).
        (X::Sync, b'E') => O::FailLater(X::Sync),
        (
            X::Parse | X::Bind | X::Close | X::DescribeStatement | X::DescribeRows | X::Execute(_),
            b'E',
        ) => O::Fail,

        _ => O::Unexpected,
    }
}

impl Phase {
    /// A short name for error messages.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Phase::SslResponse => "waiting for the SSL answer",
            Phase::Auth(_) => "authenticating",
            Phase::Startup => "starting up",
            Phase::Ready => "ready",
            Phase::Closed => "closed",
            Phase::Failed => "failed",
        }
    }
}

impl Expect {
    /// A short name for error messages.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Expect::Query(_) => "running a simple query",
            Expect::Parse => "waiting for ParseComplete",
            Expect::Bind => "waiting for BindComplete",
            Expect::DescribeStatement => "waiting for ParameterDescription",
            Expect::DescribeRows => "waiting for RowDescription or NoData",
            Expect::Execute(_) => "executing a portal",
            Expect::Close => "waiting for CloseComplete",
            Expect::Sync => "waiting for ReadyForQuery",
            Expect::FunctionCall => "calling a function",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_step_accepts_only_its_messages() {
        let all: Vec<u8> = b"123ACDEGHINRSTVWZcdnstv".to_vec();
        let steps = [
            Expect::Query(CopyMode::No),
            Expect::Query(CopyMode::In),
            Expect::Query(CopyMode::Out),
            Expect::Parse,
            Expect::Bind,
            Expect::DescribeStatement,
            Expect::DescribeRows,
            Expect::Execute(CopyMode::No),
            Expect::Execute(CopyMode::In),
            Expect::Execute(CopyMode::Out),
            Expect::Close,
            Expect::Sync,
            Expect::FunctionCall,
        ];
        for s in steps {
            let ok: Vec<u8> = all
                .iter()
                .copied()
                .filter(|t| step(s, *t) != Outcome::Unexpected)
                .collect();
            let want: &[u8] = match s {
                Expect::Query(CopyMode::No) => b"CDEGHITZ",
                Expect::Query(CopyMode::In) => b"CE",
                Expect::Query(CopyMode::Out) => b"CEcd",
                Expect::Parse => b"1E",
                Expect::Bind => b"2E",
                Expect::DescribeStatement => b"Et",
                Expect::DescribeRows => b"ETn",
                Expect::Execute(CopyMode::No) => b"CDEGHIs",
                Expect::Execute(CopyMode::In) => b"CE",
                Expect::Execute(CopyMode::Out) => b"CEcd",
                Expect::Close => b"3E",
                Expect::Sync => b"EZ",
                Expect::FunctionCall => b"EVZ",
            };
            assert_eq!(ok, want, "{s:?}");
        }
    }

    #[test]
    fn auth_table() {
        assert_eq!(startup(AuthStep::Start, 10), AuthAction::SaslStart);
        assert_eq!(startup(AuthStep::SaslFirst, 0), AuthAction::Unexpected);
        assert_eq!(startup(AuthStep::SaslDone, 0), AuthAction::Ok);
        assert_eq!(startup(AuthStep::PasswordSent, 3), AuthAction::Unexpected);
        assert_eq!(
            startup(AuthStep::Start, 7),
            AuthAction::Unsupported("GSSAPI")
        );
        assert_eq!(
            after_auth(AuthAction::SaslContinue),
            Phase::Auth(AuthStep::SaslFinal)
        );
    }
}
