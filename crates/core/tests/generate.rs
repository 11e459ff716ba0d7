//! The synthetic generators: exact sequences (the TypeScript twin checks the same values),
//! determinism, and the shape of the data they produce.

use tickforge_core::generate::{
    generate_bars, generate_ticks, BarColumns, BarGenOptions, Sfc32, TickColumns, TickGenOptions,
};
use tickforge_core::{BarData, TickData, Timeframe};

const DAY: f64 = 86_400_000.0;
const HOUR: f64 = 3_600_000.0;
/// 2024-01-01T00:00:00Z, a Monday.
const MONDAY: f64 = 1_704_067_200_000.0;

fn weekday(t: f64) -> f64 {
    ((t / DAY).floor() + 4.0) % 7.0
}

fn ticks(seed: u32, days: f64) -> TickColumns {
    generate_ticks(&TickGenOptions {
        start: MONDAY,
        days,
        seed,
        start_price: 1.1,
        digits: 5,
        mean_interval_ms: 900.0,
        step_points: 3.0,
    })
}

fn bars(timeframe: Timeframe, start: f64, count: usize, seed: u32) -> BarColumns {
    generate_bars(&BarGenOptions {
        timeframe,
        start,
        count,
        seed,
        start_price: 1.1,
        digits: 5,
        step_points: 3.0,
    })
}

#[test]
fn sfc32_known_outputs() {
    let first5 = |seed| {
        let mut rng = Sfc32::new(seed);
        [
            rng.next_u32(),
            rng.next_u32(),
            rng.next_u32(),
            rng.next_u32(),
            rng.next_u32(),
        ]
    };
    assert_eq!(
        first5(7),
        [191098398, 3644188337, 1327743077, 1350888573, 1001040862]
    );
    assert_eq!(
        first5(0),
        [47794497, 2454270595, 3904855535, 1618415911, 2662957284]
    );
    assert_eq!(
        first5(u32::MAX),
        [683205247, 1546384827, 2951948325, 1467489144, 2767260193]
    );
}

#[test]
fn first_ticks_are_exact() {
    let t = ticks(1, 1.0);
    let want = [
        (1704067200418.0, 1.10002, 1.10011),
        (1704067200677.0, 1.10004, 1.10012),
        (1704067202315.0, 1.10004, 1.10016),
        (1704067203008.0, 1.10005, 1.10017),
        (1704067203551.0, 1.10006, 1.10015),
    ];
    for (i, &(time, bid, ask)) in want.iter().enumerate() {
        assert_eq!((t.time[i], t.bid[i], t.ask[i]), (time, bid, ask), "tick {i}");
    }
}

#[test]
fn first_bars_are_exact() {
    // Starts mid-bar: the first bar opens at the bucket, 03:00.
    let b = bars(Timeframe::H1, MONDAY + 3.0 * HOUR + 5.0, 3, 42);
    let want = [
        (1704078000000.0, 1.1, 1.1, 1.0994, 1.0994, 115.0),
        (1704081600000.0, 1.0994, 1.10084, 1.0994, 1.10084, 452.0),
        (1704085200000.0, 1.10084, 1.10084, 1.10012, 1.10012, 832.0),
    ];
    for (i, &(time, open, high, low, close, volume)) in want.iter().enumerate() {
        assert_eq!(
            (b.time[i], b.open[i], b.high[i], b.low[i], b.close[i], b.volume[i]),
            (time, open, high, low, close, volume),
            "bar {i}"
        );
    }
}

#[test]
fn ticks_are_deterministic_per_seed() {
    let a = ticks(11, 2.0);
    let b = ticks(11, 2.0);
    assert_eq!(a.time, b.time);
    assert_eq!(a.bid, b.bid);
    assert_eq!(a.ask, b.ask);
    let c = ticks(12, 2.0);
    assert_ne!(a.time, c.time);
    assert_ne!(a.bid, c.bid);
}

#[test]
fn bars_are_deterministic_per_seed() {
    let a = bars(Timeframe::M5, MONDAY, 500, 3);
    let b = bars(Timeframe::M5, MONDAY, 500, 3);
    assert_eq!(
        (&a.time, &a.open, &a.high, &a.low, &a.close, &a.volume),
        (&b.time, &b.open, &b.high, &b.low, &b.close, &b.volume)
    );
    let c = bars(Timeframe::M5, MONDAY, 500, 4);
    assert_eq!(a.time, c.time, "times depend on the calendar only");
    assert_ne!(a.close, c.close);
}

#[test]
fn ticks_shape() {
    // Monday to the next Monday: five trading days, then the weekend jump passes the end.
    let t = ticks(5, 7.0);
    let n = t.time.len();
    assert!(n > 0);
    let mut per_day = [0usize; 7];
    for i in 0..n {
        let time = t.time[i];
        assert!((MONDAY..MONDAY + 7.0 * DAY).contains(&time));
        assert_eq!(time, time.floor(), "integral milliseconds");
        if i > 0 {
            assert!(time > t.time[i - 1], "strictly increasing at {i}");
        }
        let wd = weekday(time);
        assert!(wd != 0.0 && wd != 6.0, "weekend tick at {i}");
        assert!(t.ask[i] > t.bid[i]);
        assert!(t.bid[i] > 0.0);
        let spread = ((t.ask[i] - t.bid[i]) * 100_000.0).round();
        if (time / HOUR).floor() % 24.0 == 21.0 {
            assert!((24.0..=36.0).contains(&spread), "rollover spread {spread} at {i}");
        } else {
            assert!((8.0..=12.0).contains(&spread), "spread {spread} at {i}");
        }
        per_day[((time - MONDAY) / DAY).floor() as usize] += 1;
    }
    // 86_400_000 ms / 900 ms mean interval = 96_000 ticks a day; the spread of the count is
    // about 180, so 1 % is far outside chance.
    for (d, &count) in per_day.iter().enumerate().take(5) {
        assert!((95_040..=96_960).contains(&count), "day {d}: {count} ticks");
    }
    assert_eq!(per_day[5] + per_day[6], 0);
}

#[test]
fn ticks_skip_to_monday_and_stop_at_end() {
    // Starting on a Saturday: the first tick is on Monday, within its first second.
    let saturday = MONDAY + 5.0 * DAY;
    let t = generate_ticks(&TickGenOptions {
        start: saturday,
        days: 3.0,
        seed: 9,
        start_price: 1.1,
        digits: 5,
        mean_interval_ms: 900.0,
        step_points: 3.0,
    });
    let monday = saturday + 2.0 * DAY;
    assert!(t.time[0] >= monday && t.time[0] < monday + 1000.0);
    assert!(*t.time.last().unwrap() < saturday + 3.0 * DAY);
}

#[test]
fn ticks_stay_above_the_floor() {
    // Start near the floor (minPts = floor(100000 / 100) = 1000 points = 0.01) so the walk is
    // reflected many times.
    let t = generate_ticks(&TickGenOptions {
        start: MONDAY,
        days: 1.0,
        seed: 2,
        start_price: 0.01,
        digits: 5,
        mean_interval_ms: 900.0,
        step_points: 3.0,
    });
    assert!(t.bid.iter().all(|&b| b >= 0.01));
}

#[test]
fn generated_ticks_pass_validation() {
    let t = ticks(21, 3.0);
    let n = t.time.len();
    let data = TickData::new(t.time, t.bid, t.ask, None).expect("generated ticks are valid");
    assert_eq!(data.time.len(), n);
}

#[test]
fn bars_shape_every_timeframe() {
    for tf in Timeframe::ALL {
        // Start on a Wednesday, mid-bar, so bars run over at least one weekend.
        let start = MONDAY + 2.0 * DAY + 7.0 * HOUR + 123.0;
        let ms = tf.ms();
        // Eight days' worth of bars always crosses a weekend.
        let count = (8.0 * DAY / ms) as usize;
        let b = bars(tf, start, count, 17);
        assert_eq!(b.time.len(), count);
        assert_eq!(b.time[0], tf.bucket(start));
        let mut weekend_gap = false;
        for i in 0..b.time.len() {
            let t = b.time[i];
            assert_eq!(t % ms, 0.0, "{tf} bar {i} aligned");
            let wd = weekday(t);
            assert!(wd != 0.0 && wd != 6.0, "{tf} bar {i} on a weekend");
            if i > 0 {
                let step = t - b.time[i - 1];
                assert!(step >= ms);
                // Consecutive unless a weekend lies between.
                if step > ms {
                    weekend_gap = true;
                    assert_eq!(weekday(b.time[i]), 1.0, "{tf}: a gap only ends on Monday");
                }
                assert_eq!(
                    b.open[i],
                    b.close[i - 1],
                    "{tf} bar {i} opens at the previous close"
                );
            }
            assert!(b.high[i] >= b.open[i].max(b.close[i]));
            assert!(b.low[i] <= b.open[i].min(b.close[i]));
            assert!(b.low[i] > 0.0);
            assert!((1.0..=1000.0).contains(&b.volume[i]));
        }
        assert!(weekend_gap, "{tf}: the bars cross a weekend");
        let data = BarData::new(tf, b.time, b.open, b.high, b.low, b.close, b.volume)
            .unwrap_or_else(|e| panic!("{tf}: generated bars are valid: {e}"));
        assert_eq!(data.time.len(), count);
    }
}

#[test]
fn bar_steps_scale_with_the_timeframe() {
    // stepScale = floor(sqrt(tf / 1 min) * stepPoints / 2) + 1: M1 -> floor(1.5) + 1 = 2 points,
    // H1 -> floor(sqrt(60) * 1.5) + 1 = 12 points. Every move is a multiple of it.
    for (tf, step) in [(Timeframe::M1, 2.0), (Timeframe::H1, 12.0)] {
        let b = bars(tf, MONDAY, 200, 8);
        for i in 0..200 {
            let moved = ((b.close[i] - b.open[i]) * 100_000.0).round();
            assert_eq!(moved % step, 0.0, "{tf} bar {i} moved {moved}");
            assert!(moved.abs() <= 8.0 * 3.0 * step);
        }
    }
}
