//! Prints the GraphQL schema (SDL): `cargo run -p query-api --example sdl`.

fn main() {
    let schema = async_graphql::Schema::build(
        query_api::schema::Query,
        async_graphql::EmptyMutation,
        query_api::schema::Subscription,
    )
    .finish();
    print!("{}", schema.sdl());
}
