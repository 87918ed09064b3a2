mod common;
use colt_search::*;
use common::*;
#[test]
#[ignore]
fn dump() {
    let strategy: Strategy = std::env::var("S").unwrap_or("single-llm".into()).parse().unwrap();
    let mut toy = Toy::new(6, 8);
    let c = SearchConfig::new(strategy, 48, 5);
    let (mut client, _, _) = scripted_client(&toy, &[("small", "1B", Behaviour::Greedy { next: "small".into() }), ("mid", "8B", Behaviour::Greedy { next: "small".into() }), ("big", "70B", Behaviour::Greedy { next: "mid".into() })]);
    let r = run(&c, &mut toy, &mut Knn::default(), Some(&mut client), &mut NoObserver).unwrap();
    for n in &r.tree {
        println!("#{} p={:?} d={} by={} pred={:.3} meas={:?} N={} Q={:.3} {:?} {:?}", n.id, n.parent, n.depth, n.proposer, n.predicted, n.measured_us, n.visits, n.value, n.state, n.model);
    }
    println!("{}", serde_json::to_string_pretty(&r.models).unwrap());
}
