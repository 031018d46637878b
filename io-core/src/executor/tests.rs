use super::*;
use crate::park::ThreadPark;
use crate::sync::Notify;
use crate::time::{sleep, timeout};

fn run<F: Future>(f: F) -> F::Output {
    block_on_with(ThreadPark::new(), f)
}

#[test]
fn spawn_and_join() {
    let out = run(async {
        let a = spawn(async { 1 });
        let b = spawn(async { 2 });
        a.await.unwrap() + b.await.unwrap()
    });
    assert_eq!(out, 3);
}

#[test]
fn panic_in_task_is_reported_and_worker_survives() {
    run(async {
        let h = spawn(async { panic!("boom") });
        let err = h.await.unwrap_err();
        assert!(matches!(err, JoinError::Panicked(_)));
        assert!(err.to_string().contains("boom"));
        assert_eq!(spawn(async { 7 }).await.unwrap(), 7);
    });
}

#[test]
fn abort_cancels_a_pending_task() {
    run(async {
        let h = spawn(async {
            sleep(Duration::from_secs(60)).await;
            1
        });
        yield_now().await;
        h.abort();
        assert!(matches!(h.await, Err(JoinError::Cancelled)));
        assert_eq!(task_count(), 0);
    });
}

#[test]
fn timers_fire_in_order_and_timeout_elapses() {
    run(async {
        let start = Instant::now();
        let order = Rc::new(RefCell::new(Vec::new()));
        let mut hs = Vec::new();
        for ms in [30u64, 10, 20] {
            let order = order.clone();
            hs.push(spawn(async move {
                sleep(Duration::from_millis(ms)).await;
                order.borrow_mut().push(ms);
            }));
        }
        for h in hs {
            h.await.unwrap();
        }
        assert_eq!(*order.borrow(), [10, 20, 30]);
        assert!(start.elapsed() >= Duration::from_millis(30));
        let r = timeout(Duration::from_millis(10), sleep(Duration::from_secs(60))).await;
        assert!(r.is_err());
        let r = timeout(Duration::from_secs(60), async { 5 }).await;
        assert_eq!(r, Ok(5));
    });
}

#[test]
fn wake_from_another_thread_is_not_lost() {
    run(async {
        for _ in 0..200 {
            let n = Notify::new();
            let n2 = n.clone();
            let t = std::thread::spawn(move || n2.notify());
            n.notified().await;
            t.join().unwrap();
        }
    });
}

#[test]
fn dropped_timeout_removes_its_timer() {
    run(async {
        for _ in 0..100 {
            let _ = timeout(Duration::from_secs(60), async {}).await;
        }
        assert_eq!(crate::time::next_deadline(), None);
    });
}

#[test]
fn tasks_left_at_exit_are_dropped() {
    struct Flag(Rc<Cell<bool>>);
    impl Drop for Flag {
        fn drop(&mut self) {
            self.0.set(true);
        }
    }
    let dropped = Rc::new(Cell::new(false));
    let d = dropped.clone();
    run(async move {
        let flag = Flag(d);
        spawn(async move {
            let _flag = flag;
            std::future::pending::<()>().await;
        });
        yield_now().await;
    });
    assert!(dropped.get());
}
