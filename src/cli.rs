//! The command line (README.md, "The binary").

use std::path::PathBuf;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "ticketera",
    version,
    about = "Ticketera SOC: event-sourced incident ticketing for security operations centers"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Cmd,
}

#[derive(Debug, Subcommand)]
pub enum Cmd {
    /// Everything in one process on one HTTP port. Without DATABASE_URL, runs a
    /// private PostgreSQL cluster under TICKETERA_DATA_DIR.
    Serve,
    /// The REST command API alone (OAuth2 tokens, ticket commands, admin).
    CommandApi,
    /// The GraphQL query API alone (POST/GET /graphql, GraphiQL, /graphql/ws
    /// subscriptions), with /healthz, /readyz and /metrics.
    QueryApi,
    /// Ingest alone: syslog over UDP and TCP (TICKETERA_SYSLOG_UDP_ADDR,
    /// TICKETERA_SYSLOG_TCP_ADDR), the SIEM webhook, CMDB and dead-letter
    /// routes, with /healthz, /readyz and /metrics on TICKETERA_HTTP_ADDR.
    /// SIGHUP reloads TICKETERA_RULES_FILE.
    Ingest,
    /// The projector alone: builds the read models from the events (leads
    /// each projection or stands by for it), with /healthz, /readyz and
    /// /metrics on TICKETERA_HTTP_ADDR.
    Projector {
        #[command(subcommand)]
        action: Option<ProjectorCmd>,
    },
    /// Applies pending migrations and exits.
    Migrate,
    /// Users.
    User {
        #[command(subcommand)]
        action: UserCmd,
    },
    /// OAuth2 clients for integrations.
    Client {
        #[command(subcommand)]
        action: ClientCmd,
    },
    /// Token signing keys.
    Keys {
        #[command(subcommand)]
        action: KeysCmd,
    },
    /// Prints a public interface description (no database needed): the
    /// GraphQL schema in SDL or the REST API's OpenAPI document. The SPA's
    /// typed clients are generated from these (web/schema.graphql,
    /// web/openapi.json).
    Schema {
        #[command(subcommand)]
        which: SchemaCmd,
    },
    /// Shows what ingest makes of messages, without a database: one JSON
    /// line per message (format, vendor, product, signature, addresses,
    /// ports, host, user, event time, and the rules' decision or the parse
    /// error). Rules: TICKETERA_RULES_FILE or the shipped default.
    Parse {
        /// Messages, one a line (a FortiSIEM XML document, or a JSON object
        /// over several lines, is one webhook body); stdin when omitted.
        file: Option<PathBuf>,
        /// Read the whole input as one webhook body: xml or json.
        #[arg(long)]
        webhook: Option<String>,
        /// Also print every key/value the message carries (what rules match).
        #[arg(long)]
        fields: bool,
    },
    /// Prints a ticket as it was, folded from its own events, as JSON.
    Replay {
        /// Ticket id (UUID) or number (SOC-<n>).
        ticket: String,
        /// The ticket after its last event recorded at or before this RFC 3339 instant.
        #[arg(long, conflicts_with = "version")]
        at: Option<String>,
        /// The ticket after this many events.
        #[arg(long)]
        version: Option<u64>,
    },
}

#[derive(Debug, Subcommand)]
pub enum UserCmd {
    /// Creates a user; prompts for the password, or reads it from stdin.
    Add {
        username: String,
        /// admin, lead, analyst, auditor or integration.
        #[arg(long)]
        role: String,
        #[arg(long)]
        display_name: Option<String>,
        /// Read the password from standard input (one line).
        #[arg(long)]
        password_stdin: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum ClientCmd {
    /// Creates a client; prints client_id and client_secret once.
    Add {
        name: String,
        #[arg(long, default_value = "integration")]
        role: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum ProjectorCmd {
    /// Rebuilds read models from the first event into fresh tables and swaps
    /// them in atomically; queries keep being answered meanwhile.
    Rebuild {
        /// tickets or stats; all of them when omitted.
        projection: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum SchemaCmd {
    /// The GraphQL schema (SDL) that /graphql serves.
    Graphql,
    /// The OpenAPI 3 document that /api/openapi.json serves.
    Openapi,
}

#[derive(Debug, Subcommand)]
pub enum KeysCmd {
    /// Makes a new signing key current; tokens signed by the old one stay valid until they expire.
    Rotate,
}

/// Where a private cluster lives by default.
pub fn default_data_dir() -> PathBuf {
    PathBuf::from("./.ticketera")
}
