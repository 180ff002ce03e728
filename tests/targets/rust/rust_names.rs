// Rust names for the symbol tests (tests/symbols/test_rust_names.py): a struct with impl
// methods, a trait impl, a generic function instantiated twice, a closure, and a function
// that panics when asked to.  Built by the tests with Debian's /usr/bin/rustc, once with
// the legacy mangling and once with v0; not part of the C `targets` fixture.
//
// Prints the checksum of what it computed so that the tests see every function ran.

use std::env;

pub struct Point {
    pub x: f64,
    pub y: f64,
}

impl Point {
    #[inline(never)]
    pub fn new(x: f64, y: f64) -> Point {
        Point { x, y }
    }

    #[inline(never)]
    pub fn norm(&self) -> f64 {
        (self.x * self.x + self.y * self.y).sqrt()
    }
}

pub trait Shape {
    fn area(&self) -> f64;
}

impl Shape for Point {
    #[inline(never)]
    fn area(&self) -> f64 {
        self.x * self.y
    }
}

#[inline(never)]
pub fn twice<T: Copy + std::ops::Add<Output = T>>(value: T) -> T {
    value + value
}

#[inline(never)]
pub fn apply<F: Fn(i64) -> i64>(f: F, value: i64) -> i64 {
    f(value)
}

#[inline(never)]
pub fn checked(value: i64) -> i64 {
    if value < 0 {
        panic!("negative value {}", value);
    }
    value
}

fn main() {
    let point = Point::new(3.0, 4.0);
    let offset = env::args().count() as i64;
    let closure = |n: i64| n * 3 + offset;
    let norm = point.norm();
    let area = point.area();
    let doubled_int = twice(21i32);
    let doubled_float = twice(1.5f64);
    let applied = apply(closure, 5);
    // An argument "panic" makes checked() panic (exit status 101).
    let input = if env::args().any(|a| a == "panic") { -1 } else { 7 };
    let kept = checked(input);
    println!(
        "norm={} area={} twice_i32={} twice_f64={} apply={} checked={}",
        norm, area, doubled_int, doubled_float, applied, kept
    );
}
