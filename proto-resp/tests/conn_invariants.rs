//! `invariants::check_client_conn` (the `resp_client_conn` fuzz target's
//! check) on server input built from replies a server sends, in any order
//! and mixed with garbage: the client machine must handle it the same
//! whatever the read boundaries and read style, and keep FIFO order.

use proptest::prelude::*;
use proto_resp::invariants::check_client_conn;

/// Pieces of server output: handshake replies, ordinary replies, pub/sub
/// confirmations and messages in both protocols, invalidations, errors,
/// and a few malformed bytes.
const PIECES: &[&[u8]] = &[
    b"%1\r\n$5\r\nproto\r\n:3\r\n",
    b"*2\r\n$5\r\nproto\r\n:2\r\n",
    b"-ERR unknown command 'HELLO'\r\n",
    b"-NOPROTO sorry\r\n",
    b"-WRONGPASS nope\r\n",
    b"+OK\r\n",
    b"$1\r\nv\r\n",
    b"$-1\r\n",
    b"_\r\n",
    b":1\r\n",
    b"+PONG\r\n",
    b"*0\r\n",
    b"*-1\r\n",
    b"*3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n",
    b"*3\r\n$9\r\nsubscribe\r\n$1\r\nb\r\n:2\r\n",
    b">3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n",
    b">3\r\n$11\r\nunsubscribe\r\n$1\r\na\r\n:0\r\n",
    b"*3\r\n$11\r\nunsubscribe\r\n$1\r\nb\r\n:0\r\n",
    b">3\r\n$10\r\npsubscribe\r\n$2\r\np*\r\n:1\r\n",
    b">3\r\n$10\r\nssubscribe\r\n$1\r\ns\r\n:1\r\n",
    b"*3\r\n$7\r\nmessage\r\n$1\r\na\r\n$1\r\nx\r\n",
    b">3\r\n$7\r\nmessage\r\n$1\r\na\r\n$1\r\nx\r\n",
    b">4\r\n$8\r\npmessage\r\n$2\r\np*\r\n$2\r\npx\r\n$1\r\nx\r\n",
    b">2\r\n$10\r\ninvalidate\r\n*1\r\n$1\r\nk\r\n",
    b"+RESET\r\n",
    b"*1\r\n+QUEUED\r\n",
    b"|1\r\n+k\r\n+v\r\n:5\r\n",
    b"-ERR x\r\n",
    b"!3\r\nerr\r\n",
    b"?x\r\n",
    b"$5\r\nab",
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn structured_server_input(head in any::<u8>(),
                               picks in prop::collection::vec(any::<u8>(), 0..8),
                               pieces in prop::collection::vec(0..PIECES.len(), 0..12)) {
        let mut data = vec![head];
        data.extend(picks.iter().take(usize::from(head & 7)));
        for p in pieces {
            data.extend_from_slice(PIECES[p]);
        }
        check_client_conn(&data);
    }

    #[test]
    fn arbitrary_server_input(data in prop::collection::vec(any::<u8>(), 0..256)) {
        check_client_conn(&data);
    }
}
