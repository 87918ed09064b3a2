mod common;
use colt_search::*;
use common::*;
#[test]
#[ignore]
fn report() {
    for strategy in Strategy::ALL {
        let mut bests = vec![];
        let mut over = 0.0;
        for seed in 1..=5 {
            let mut toy = Toy::new(8, 8);
            let (mut client, _, _) = scripted_client(&toy, &[("small", "1B", Behaviour::Worsen { next: "small".into() }), ("big", "70B", Behaviour::Garbage)]);
            let c = SearchConfig::new(strategy, 64, seed);
            let r = if strategy.uses_llm() { run(&c, &mut toy, &mut colt_cost::Gbdt::default(), Some(&mut client), &mut NoObserver) } else { run(&c, &mut toy, &mut colt_cost::Gbdt::default(), None, &mut NoObserver) }.unwrap();
            bests.push(r.best_us().unwrap());
            over += r.time.overhead_s / r.trials as f64;
        }
        println!("{strategy}: {:?} overhead/trial {:.2} ms", bests, over / 5.0 * 1e3);
    }
}
