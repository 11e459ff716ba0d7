//! Opt-in per-step timing (docs/semantics.md section 8).

#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct StepStats {
    pub ms: f64,
    pub count: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    UpdatePrices,
    BarRendering,
    BarHistory,
    WorkerDecision,
    OrderExecution,
    LiveUpdate,
}

impl Step {
    pub const ALL: [Step; 6] = [
        Step::UpdatePrices,
        Step::BarRendering,
        Step::BarHistory,
        Step::WorkerDecision,
        Step::OrderExecution,
        Step::LiveUpdate,
    ];
    pub fn name(self) -> &'static str {
        match self {
            Step::UpdatePrices => "updatePrices",
            Step::BarRendering => "barRendering",
            Step::BarHistory => "barHistory",
            Step::WorkerDecision => "workerDecision",
            Step::OrderExecution => "orderExecution",
            Step::LiveUpdate => "liveUpdate",
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Profile {
    pub steps: [StepStats; 6],
}

impl Profile {
    pub fn get(&self, step: Step) -> StepStats {
        self.steps[step as usize]
    }
}
