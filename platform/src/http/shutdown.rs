//! Graceful shutdown on SIGTERM or SIGINT.

use tokio_util_free::CancellationToken;

mod tokio_util_free {
    pub use tokio::sync::watch;

    /// A cloneable "stop now" signal every task can await.
    #[derive(Clone)]
    pub struct CancellationToken {
        rx: watch::Receiver<bool>,
        tx: std::sync::Arc<watch::Sender<bool>>,
    }

    impl Default for CancellationToken {
        fn default() -> Self {
            let (tx, rx) = watch::channel(false);
            CancellationToken {
                rx,
                tx: std::sync::Arc::new(tx),
            }
        }
    }

    impl CancellationToken {
        pub fn cancel(&self) {
            let _ = self.tx.send(true);
        }
        pub fn is_cancelled(&self) -> bool {
            *self.rx.borrow()
        }
        pub async fn cancelled(&self) {
            let mut rx = self.rx.clone();
            let _ = rx.wait_for(|stop| *stop).await;
        }
    }
}

pub use tokio_util_free::CancellationToken as Shutdown;

/// A token cancelled on the first SIGTERM or SIGINT.
pub fn on_signals() -> Shutdown {
    let token = CancellationToken::default();
    let t = token.clone();
    tokio::spawn(async move {
        let ctrl_c = tokio::signal::ctrl_c();
        #[cfg(unix)]
        {
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(mut term) => {
                    tokio::select! {
                        _ = ctrl_c => {},
                        _ = term.recv() => {},
                    }
                }
                Err(_) => {
                    let _ = ctrl_c.await;
                }
            }
        }
        #[cfg(not(unix))]
        let _ = ctrl_c.await;
        tracing::info!("shutdown signal received; finishing in-flight work");
        t.cancel();
    });
    token
}
