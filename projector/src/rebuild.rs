//! `projector rebuild`: builds a projection afresh beside the live one and
//! swaps it in, while queries keep being answered from the live copy (not
//! truncate-and-replay).
//!
//! 1. A new schema `<base>_build_<n>` with empty tables and no secondary
//!    indexes yet (the migration's SQL function), its checkpoint at the very
//!    beginning.
//! 2. Catch up from the first event. Nobody else reads or writes the new
//!    schema, which allows what the live leader's one-transaction batches
//!    cannot: pages are read and decoded on a connection of their own; rows
//!    stay in memory while events keep changing them and are written once,
//!    when idle or at the end; timeline rows go out in bulk as they come;
//!    writes run on two more connections, concurrently with the fold. The
//!    checkpoint moves when everything before it is written. A crash leaves
//!    a stale build schema behind, dropped by the next rebuild; the live
//!    copy is untouched.
//! 3. Index in bulk (two connections), refresh the planner's statistics,
//!    catch up with what arrived meanwhile.
//! 4. Swap, in one transaction: lock the live checkpoint row (the live
//!    leader's batches take the same lock, so they serialize with us), mark
//!    it retired (a leader waiting on it then rolls back instead of writing
//!    to the old copy), apply the events that arrived meanwhile, rename live
//!    → `<base>_old_<n>` and build → `<base>`, notify, commit.
//! 5. Drop the old schema.

use std::time::{Duration, Instant};

use platform::event_store::{EventCodec, StoredEvent};
use platform::feed::{self, RawPage};
use platform::position::Position;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{Connection, PgConnection, PgPool};
use tokio::sync::mpsc;
use tokio::task::JoinSet;

use crate::error::ProjectorError;
use crate::model::{Job, Model};
use crate::runner::{notify_projected, try_lock, unlock};
use crate::schema::{self, Projection};

/// Events read from the feed at a time while rebuilding.
const READ_BATCH: i64 = 5_000;
/// Timeline rows written at a time while rebuilding.
const FLUSH_ROWS: usize = 5_000;
/// Bytes of rows kept in memory before they are all written out.
const CACHE_BYTES: usize = 256 * 1024 * 1024;
/// A row no event touched for this many events is written out during the
/// catch-up (and read back if an event comes for it after all).
const IDLE_EVENTS: u64 = 100_000;
/// `maintenance_work_mem` of each index build (and statistics run) of a
/// rebuild, for its transaction only. The default (64MB) made the search
/// index's build spill and merge: 2.0 s instead of 1.6 s over 100,000
/// tickets, the timeline's key 0.71 s instead of 0.56 s. Two builds run at
/// once, so a rebuild asks PostgreSQL for up to twice this.
const INDEX_MEMORY: &str = "256MB";
/// Connections writing a rebuild's copy (the machine's cores are shared with
/// the reader, the fold and Postgres itself).
const WRITERS: usize = 2;

/// What a rebuild did.
#[derive(Debug, Clone)]
pub struct RebuildReport {
    pub projection: &'static str,
    /// Events applied to the new copy.
    pub events: u64,
    /// Where the new copy stood when it was swapped in.
    pub position: Position,
    pub elapsed: Duration,
}

/// Rebuilds `projection`, or every projection for `None`, from the first
/// event, and swaps each in atomically. `Busy` when a rebuild of the same
/// projection is already running.
pub async fn rebuild(
    pool: &PgPool,
    projection: Option<&str>,
) -> Result<Vec<RebuildReport>, ProjectorError> {
    let mut reports = Vec::new();
    for p in Projection::select(projection)? {
        reports.push(rebuild_one(pool, p).await?);
    }
    Ok(reports)
}

async fn rebuild_one(pool: &PgPool, p: Projection) -> Result<RebuildReport, ProjectorError> {
    let options = (*pool.connect_options())
        .clone()
        .application_name("ticketera-rebuild");
    // A session of its own holds the rebuild lock for the whole run.
    let mut conn = PgConnection::connect_with(&options).await?;
    if !try_lock(&mut conn, p.rebuild_key()).await? {
        let _ = conn.close().await;
        return Err(ProjectorError::Busy(p.name()));
    }
    let result = Rebuild {
        p,
        codec: EventCodec::default(),
        options,
    }
    .run(&mut conn)
    .await;
    unlock(&mut conn, p.rebuild_key()).await;
    let _ = conn.close().await;
    result
}

struct Rebuild {
    p: Projection,
    codec: EventCodec,
    options: PgConnectOptions,
}

/// Progress of the new copy: folded up to `position`, written up to
/// `flushed`.
struct Progress {
    /// Time the fold spent waiting for pages, folding, and waiting for
    /// writers during the catch-up; then the final flushes, indexing,
    /// statistics.
    read: Duration,
    fold: Duration,
    write: Duration,
    final_flush: Duration,
    index: Duration,
    analyze: Duration,
    position: Position,
    flushed: Position,
    unflushed: u64,
    last_recorded_at: Option<chrono::DateTime<chrono::Utc>>,
    applied: u64,
}

impl Rebuild {
    async fn run(&self, conn: &mut PgConnection) -> Result<RebuildReport, ProjectorError> {
        let started = Instant::now();
        self.drop_leftovers(conn).await?;
        let n: i64 = sqlx::query_scalar("SELECT nextval('rm_build_seq')")
            .fetch_one(&mut *conn)
            .await?;
        let base = self.p.schema();
        let build = format!("{base}_build_{n}");
        let old = format!("{base}_old_{n}");
        schema::check_schema_name(&build)?;
        schema::check_schema_name(&old)?;
        self.p.create_schema(conn, &build, false).await?;
        tracing::info!(projection = self.p.name(), schema = %build, "rebuilding");

        let built = self.build(conn, &build, &old).await;
        if built.is_err() {
            // Leave no half-built copy behind when we can help it.
            if let Err(e) = drop_schema(conn, &build).await {
                tracing::warn!(schema = %build, error = %e, "cannot drop the unfinished copy; the next rebuild will");
            }
        }
        let progress = built?;
        // The live copy is retired and renamed: waiting readers are done
        // with it once their statements end.
        if let Err(e) = drop_schema(conn, &old).await {
            tracing::warn!(schema = %old, error = %e, "cannot drop the old copy yet; the next rebuild will");
        }
        let report = RebuildReport {
            projection: self.p.name(),
            events: progress.applied,
            position: progress.position,
            elapsed: started.elapsed(),
        };
        tracing::info!(
            projection = report.projection,
            events = report.events,
            seconds = report.elapsed.as_secs_f64(),
            read_seconds = progress.read.as_secs_f64(),
            fold_seconds = progress.fold.as_secs_f64(),
            write_seconds = progress.write.as_secs_f64(),
            final_flush_seconds = progress.final_flush.as_secs_f64(),
            index_seconds = progress.index.as_secs_f64(),
            analyze_seconds = progress.analyze.as_secs_f64(),
            "rebuilt and swapped in"
        );
        Ok(report)
    }

    async fn build(
        &self,
        conn: &mut PgConnection,
        build: &str,
        old: &str,
    ) -> Result<Progress, ProjectorError> {
        let mut model = Model::new(self.p);
        let mut progress = Progress {
            read: Duration::ZERO,
            fold: Duration::ZERO,
            write: Duration::ZERO,
            final_flush: Duration::ZERO,
            index: Duration::ZERO,
            analyze: Duration::ZERO,
            position: Position::default(),
            flushed: Position::default(),
            unflushed: 0,
            last_recorded_at: None,
            applied: 0,
        };
        let mut writers = Writers::connect(&self.options, build).await?;
        let built = async {
            // 1. Catch up from the first event, indexes left for later.
            self.catch_up(conn, build, &mut model, &mut progress, &mut writers)
                .await?;
            // 2. Index in bulk, and fresh statistics so that queries plan
            //    well from the first second.
            let t = Instant::now();
            for sql in self.p.index_statements() {
                writers.spawn_sql(sql, true).await?;
            }
            writers.barrier().await?;
            progress.index = t.elapsed();
            let t = Instant::now();
            for sql in self.p.analyze_statements() {
                writers.spawn_sql(sql, false).await?;
            }
            writers.barrier().await?;
            progress.analyze = t.elapsed();
            // 3. What arrived meanwhile, still without holding up the leader.
            self.catch_up(conn, build, &mut model, &mut progress, &mut writers)
                .await
        }
        .await;
        writers.close().await;
        built?;

        // 4. The swap.
        let mut tx = conn.begin().await?;
        let live = self.p.schema();
        let live_exists: bool =
            sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)")
                .bind(live)
                .fetch_one(&mut *tx)
                .await?;
        let mut live_at = Position::default();
        if live_exists {
            schema::enter_schema(&mut tx, live).await?;
            live_at = schema::lock_checkpoint(&mut tx).await?.position;
            sqlx::query("UPDATE checkpoint SET retired = true")
                .execute(&mut *tx)
                .await?;
        }
        schema::switch_schema(&mut tx, build).await?;
        loop {
            let events =
                feed::read_after(&mut *tx, &self.codec, progress.position, READ_BATCH).await?;
            if events.is_empty() {
                break;
            }
            model.apply(&mut tx, &events).await?;
            progress.advance(&events);
        }
        self.flush(&mut tx, &mut model, &mut progress).await?;
        sqlx::query("SELECT rm_swap_schemas($1, $2, $3)")
            .bind(live)
            .bind(build)
            .bind(old)
            .execute(&mut *tx)
            .await?;
        notify_projected(&mut tx, self.p, live_at, progress.position, true).await?;
        tx.commit().await?;
        Ok(progress)
    }

    /// Folds everything the feed delivers now into `model`. Pages are read
    /// and decoded on a connection and task of their own, and written by
    /// `writers` on theirs, while this task folds: reading, folding and
    /// writing overlap. Ends with everything written and the checkpoint
    /// where the feed was.
    async fn catch_up(
        &self,
        conn: &mut PgConnection,
        build: &str,
        model: &mut Model,
        progress: &mut Progress,
        writers: &mut Writers,
    ) -> Result<(), ProjectorError> {
        let (pages_tx, mut pages) = mpsc::channel(4);
        let _reader = AbortOnDrop(tokio::spawn(read_pages(
            self.options.clone(),
            self.codec.clone(),
            progress.position,
            pages_tx,
        )));
        loop {
            let t = Instant::now();
            let events = match pages.recv().await {
                Some(page) => page?,
                None => break,
            };
            progress.read += t.elapsed();
            let t = Instant::now();
            if model.needs_rows(&events) {
                // Rows taken out earlier are read back: their writes first.
                writers.barrier().await?;
                let mut tx = conn.begin().await?;
                schema::enter_schema(&mut tx, build).await?;
                model.apply(&mut tx, &events).await?;
                tx.commit().await?;
            } else {
                model.apply(conn, &events).await?;
            }
            progress.advance(&events);
            progress.fold += t.elapsed();
            let t = Instant::now();
            if model.weight() >= CACHE_BYTES {
                // Memory is full: write everything out.
                self.flush_all(conn, build, model, progress, writers)
                    .await?;
            } else if model.log_pending() >= FLUSH_ROWS {
                // Rows that only grow go out in bulk as they come; rows that
                // still change stay in memory and are written once. Nobody
                // reads this copy and a crash discards it, so the checkpoint
                // need not move with them.
                for job in model.take_log() {
                    writers.spawn(job).await?;
                }
                // Rows no event touched for a while are likely done with:
                // write them now, while the fold goes on.
                for job in model.take_idle(IDLE_EVENTS, WRITERS) {
                    writers.spawn(job).await?;
                }
            }
            progress.write += t.elapsed();
        }
        let t = Instant::now();
        self.flush_all(conn, build, model, progress, writers)
            .await?;
        progress.final_flush += t.elapsed();
        Ok(())
    }

    /// Writes everything folded (changed rows split over the writers), then
    /// moves the checkpoint to where the fold is.
    async fn flush_all(
        &self,
        conn: &mut PgConnection,
        build: &str,
        model: &mut Model,
        progress: &mut Progress,
        writers: &mut Writers,
    ) -> Result<(), ProjectorError> {
        for job in model.take_all(WRITERS) {
            writers.spawn(job).await?;
        }
        writers.barrier().await?;
        if progress.position != progress.flushed {
            let mut tx = conn.begin().await?;
            schema::enter_schema(&mut tx, build).await?;
            schema::advance_checkpoint(
                &mut tx,
                self.p,
                progress.flushed,
                progress.position,
                progress.unflushed,
                progress.last_recorded_at,
            )
            .await?;
            tx.commit().await?;
        }
        progress.flushed = progress.position;
        progress.unflushed = 0;
        Ok(())
    }

    /// In the swap transaction: writes what is folded and moves the
    /// checkpoint with it.
    async fn flush(
        &self,
        conn: &mut PgConnection,
        model: &mut Model,
        progress: &mut Progress,
    ) -> Result<(), ProjectorError> {
        model.flush(conn).await?;
        if progress.position != progress.flushed {
            schema::advance_checkpoint(
                conn,
                self.p,
                progress.flushed,
                progress.position,
                progress.unflushed,
                progress.last_recorded_at,
            )
            .await?;
        }
        progress.flushed = progress.position;
        progress.unflushed = 0;
        Ok(())
    }

    /// Copies left by a rebuild that crashed, or whose old copy could not be
    /// dropped. We hold the rebuild lock, so no rebuild uses them, and no
    /// leader writes to a retired copy.
    async fn drop_leftovers(&self, conn: &mut PgConnection) -> Result<(), ProjectorError> {
        let base = self.p.schema();
        let names: Vec<String> = sqlx::query_scalar(
            "SELECT nspname::text FROM pg_namespace WHERE starts_with(nspname::text, $1)",
        )
        .bind(format!("{base}_"))
        .fetch_all(&mut *conn)
        .await?;
        for name in names {
            let rest = &name[base.len() + 1..];
            let leftover = ["build_", "old_"].iter().any(|kind| {
                rest.strip_prefix(kind)
                    .is_some_and(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()))
            });
            if leftover {
                tracing::info!(schema = %name, "dropping a copy left by an earlier rebuild");
                // Only disk space is at stake (names never repeat): a copy
                // still read by a long query is left for the next time.
                if let Err(e) = drop_schema(conn, &name).await {
                    tracing::warn!(schema = %name, error = %e, "cannot drop it yet");
                }
            }
        }
        Ok(())
    }
}

/// Reads the feed after `from` page by page until it is caught up, on a
/// connection of its own, and hands the decoded pages over. Reading and
/// decoding run on two tasks: PostgreSQL reads the next page while this
/// process decodes the last one.
async fn read_pages(
    options: PgConnectOptions,
    codec: EventCodec,
    from: Position,
    pages: mpsc::Sender<Result<Vec<StoredEvent>, ProjectorError>>,
) {
    let (raw_tx, mut raw) = mpsc::channel::<Result<RawPage, ProjectorError>>(2);
    let _reader = AbortOnDrop(tokio::spawn(read_raw_pages(options, from, raw_tx)));
    while let Some(page) = raw.recv().await {
        let decoded = page.and_then(|p| p.decode(&codec).map_err(ProjectorError::from));
        let failed = decoded.is_err();
        if pages.send(decoded).await.is_err() || failed {
            break;
        }
    }
}

async fn read_raw_pages(
    options: PgConnectOptions,
    from: Position,
    pages: mpsc::Sender<Result<RawPage, ProjectorError>>,
) {
    let mut conn = match PgConnection::connect_with(&options).await {
        Ok(c) => c,
        Err(e) => {
            let _ = pages.send(Err(e.into())).await;
            return;
        }
    };
    let mut at = from;
    loop {
        let page = feed::read_rows_after(&mut conn, at, READ_BATCH)
            .await
            .and_then(|page| Ok((page.last_position()?, page)));
        match page {
            Ok((Some(last), page)) => {
                at = last;
                if pages.send(Ok(page)).await.is_err() {
                    break;
                }
            }
            Ok((None, _)) => break,
            Err(e) => {
                let _ = pages.send(Err(e.into())).await;
                break;
            }
        }
    }
    let _ = conn.close().await;
}

/// Connections that write a rebuild's copy concurrently with the fold.
struct Writers {
    pool: PgPool,
    schema: String,
    jobs: JoinSet<Result<(), ProjectorError>>,
}

impl Writers {
    async fn connect(options: &PgConnectOptions, schema: &str) -> Result<Writers, ProjectorError> {
        let pool = PgPoolOptions::new()
            .max_connections(WRITERS as u32)
            .connect_with(options.clone())
            .await?;
        Ok(Writers {
            pool,
            schema: schema.to_string(),
            jobs: JoinSet::new(),
        })
    }

    /// Writes `job` in a transaction of its own, in the background.
    async fn spawn(&mut self, job: Job) -> Result<(), ProjectorError> {
        self.make_room().await?;
        let (pool, schema) = (self.pool.clone(), self.schema.clone());
        self.jobs.spawn(async move {
            let mut tx = pool.begin().await?;
            schema::enter_schema(&mut tx, &schema).await?;
            job.write(&mut tx).await?;
            tx.commit().await?;
            Ok(())
        });
        Ok(())
    }

    /// Runs `sql` in the background, with the schema's name as `$1` when
    /// `named`.
    async fn spawn_sql(&mut self, sql: &'static str, named: bool) -> Result<(), ProjectorError> {
        self.make_room().await?;
        let (pool, schema) = (self.pool.clone(), self.schema.clone());
        self.jobs.spawn(async move {
            let mut tx = pool.begin().await?;
            schema::enter_schema(&mut tx, &schema).await?;
            // Index builds and statistics grow with the history: the
            // application's statement timeout is for requests, not these.
            sqlx::query("SELECT set_config('statement_timeout', '0', true)")
                .execute(&mut *tx)
                .await?;
            sqlx::query("SELECT set_config('maintenance_work_mem', $1, true)")
                .bind(INDEX_MEMORY)
                .execute(&mut *tx)
                .await?;
            let query = sqlx::query(sql);
            let query = if named { query.bind(&schema) } else { query };
            query.execute(&mut *tx).await?;
            tx.commit().await?;
            Ok(())
        });
        Ok(())
    }

    /// Bounds the rows waiting in memory for a connection.
    async fn make_room(&mut self) -> Result<(), ProjectorError> {
        while self.jobs.len() >= 2 * WRITERS {
            if let Some(done) = self.jobs.join_next().await {
                done.map_err(|e| ProjectorError::Task(e.to_string()))??;
            }
        }
        Ok(())
    }

    /// Waits for every job spawned so far.
    async fn barrier(&mut self) -> Result<(), ProjectorError> {
        while let Some(done) = self.jobs.join_next().await {
            done.map_err(|e| ProjectorError::Task(e.to_string()))??;
        }
        Ok(())
    }

    async fn close(mut self) {
        self.jobs.abort_all();
        while self.jobs.join_next().await.is_some() {}
        self.pool.close().await;
    }
}

/// Stops the reader when the rebuild stops early.
struct AbortOnDrop<T>(tokio::task::JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl Progress {
    fn advance(&mut self, events: &[StoredEvent]) {
        if let Some(last) = events.last() {
            self.position = last.position;
            self.last_recorded_at = Some(last.recorded_at);
        }
        self.unflushed += events.len() as u64;
        self.applied += events.len() as u64;
    }
}

async fn drop_schema(conn: &mut PgConnection, name: &str) -> Result<(), ProjectorError> {
    schema::check_schema_name(name)?;
    sqlx::query("SELECT rm_drop_schema($1)")
        .bind(name)
        .execute(conn)
        .await?;
    Ok(())
}
