//! What a GraphQL request may cost. An operation's cost is its complexity:
//! each list field costs the rows it may read (its `first`, or its
//! documented default page) times the cost of one row's fields, so the
//! figure follows the work. One HTTP request has one budget: a single
//! operation, or every operation of a batch together (measured before any
//! of them runs, so an over-budget batch runs nothing).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use async_graphql::extensions::{Extension, ExtensionContext, ExtensionFactory, NextValidation};
use async_graphql::{
    ErrorExtensionValues, Request, Response, ServerError, ValidationResult, Value, Variables,
};

use crate::AppSchema;

/// The error code of an operation or batch over the budget.
pub const COST_LIMIT_EXCEEDED: &str = "COST_LIMIT_EXCEEDED";

/// The schema extension refusing operations that cost more than `budget`.
pub struct CostLimit {
    pub budget: usize,
}

impl ExtensionFactory for CostLimit {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(CostCheck {
            budget: self.budget,
        })
    }
}

struct CostCheck {
    budget: usize,
}

/// Request data asking only for the operation's cost: it is recorded and
/// the operation stops after validation, before anything runs.
#[derive(Clone)]
struct CostProbe(Arc<AtomicUsize>);

/// A probe that saw no valid operation (it fails again when run for real).
const NOT_MEASURED: usize = usize::MAX;

/// The error of a request over its budget.
pub fn too_costly(cost: usize, budget: usize) -> ServerError {
    let mut error = ServerError::new(
        format!(
            "the request is too complex: it costs {cost}, more than the budget of {budget} \
             (a list costs the rows it may read, `first`, times its fields; a batch shares one budget)"
        ),
        None,
    );
    let mut extensions = ErrorExtensionValues::default();
    extensions.set("code", COST_LIMIT_EXCEEDED);
    extensions.set("cost", Value::from(cost as u64));
    extensions.set("budget", Value::from(budget as u64));
    error.extensions = Some(extensions);
    error
}

#[async_graphql::async_trait::async_trait]
impl Extension for CostCheck {
    async fn validation(
        &self,
        ctx: &ExtensionContext<'_>,
        next: NextValidation<'_>,
    ) -> Result<ValidationResult, Vec<ServerError>> {
        let result = next.run(ctx).await?;
        if let Some(probe) = ctx.data_opt::<CostProbe>() {
            probe.0.store(result.complexity, Ordering::Relaxed);
            return Err(vec![ServerError::new("cost measured", None)]);
        }
        if result.complexity > self.budget {
            metrics::counter!("ticketera_graphql_cost_refused_total").increment(1);
            return Err(vec![too_costly(result.complexity, self.budget)]);
        }
        Ok(result)
    }
}

/// The cost of an operation without running it; `None` when it does not
/// validate (running it reports why). `schema` must carry [`CostLimit`]
/// (the streams schema, or [`crate::schema::bare`]).
pub async fn measure(schema: &AppSchema, req: &Request) -> Option<usize> {
    Measurable::of(req).measure(schema).await
}

/// An operation's text, kept to measure it after it ran.
pub struct Measurable {
    query: String,
    operation_name: Option<String>,
    variables: Variables,
}

impl Measurable {
    pub fn of(req: &Request) -> Measurable {
        Measurable {
            query: req.query.clone(),
            operation_name: req.operation_name.clone(),
            variables: req.variables.clone(),
        }
    }

    async fn measure(self, schema: &AppSchema) -> Option<usize> {
        let cell = Arc::new(AtomicUsize::new(NOT_MEASURED));
        let mut probe = Request::new(self.query).variables(self.variables);
        if let Some(name) = self.operation_name {
            probe = probe.operation_name(name);
        }
        schema.execute(probe.data(CostProbe(cell.clone()))).await;
        match cell.load(Ordering::Relaxed) {
            NOT_MEASURED => None,
            cost => Some(cost),
        }
    }
}

/// async-graphql's error when its own complexity limit refuses an operation.
const BUILT_IN_REFUSAL: &str = "Query is too complex.";

/// An answer the queries schema refused with async-graphql's own complexity
/// limit gets this module's error instead, with the cost (measured on
/// `measuring`, a schema with [`CostLimit`]) and the budget: the same
/// answer whichever schema refused.
pub async fn explain_refusal(
    resp: &mut Response,
    op: Measurable,
    measuring: &AppSchema,
    budget: usize,
) {
    let Some(at) = resp
        .errors
        .iter()
        .position(|e| e.message == BUILT_IN_REFUSAL && e.path.is_empty())
    else {
        return;
    };
    metrics::counter!("ticketera_graphql_cost_refused_total").increment(1);
    // Over the budget, so it validates but for its cost: measured it is.
    let cost = op
        .measure(measuring)
        .await
        .unwrap_or(budget.saturating_add(1));
    resp.errors[at] = too_costly(cost, budget);
}

/// The cost of a batch: the sum of its operations' (saturating).
pub async fn measure_batch(schema: &AppSchema, reqs: &[&Request]) -> usize {
    let mut total = 0usize;
    for req in reqs {
        total = total.saturating_add(measure(schema, req).await.unwrap_or(0));
    }
    total
}

/// The cost of `query` with `variables` (a JSON object) without running it
/// or any database: what the budget would be held against.
pub async fn of_document(query: &str, variables: serde_json::Value) -> Option<usize> {
    let req = Request::new(query).variables(async_graphql::Variables::from_json(variables));
    measure(&crate::schema::bare(), &req).await
}
