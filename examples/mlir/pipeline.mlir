// A small photonic-kernel module for examples/mlir's driver: public
// functions with arithmetic, scf loops and a call, for a pipeline of
// inline, canonicalize, cse, sccp and loop-invariant-code-motion.
module {
  func.func @mzi_phase(%theta: f32, %scale: f32) -> f32 {
    %c0 = arith.constant 0.0 : f32
    %c1 = arith.constant 1.0 : f32
    %a = arith.mulf %theta, %scale : f32
    %b = arith.addf %a, %c0 : f32
    %c = arith.mulf %b, %c1 : f32
    return %c : f32
  }

  func.func @mesh_sum(%n: index, %x: f32) -> f32 {
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    %zero = arith.constant 0.0 : f32
    %two = arith.constant 2.0 : f32
    %sum = scf.for %i = %c0 to %n step %c1 iter_args(%acc = %zero) -> (f32) {
      %k = arith.mulf %two, %x : f32
      %next = arith.addf %acc, %k : f32
      scf.yield %next : f32
    }
    return %sum : f32
  }

  func.func @attenuate(%x: f32) -> f32 {
    %half = arith.constant 0.5 : f32
    %p = func.call @mzi_phase(%x, %half) : (f32, f32) -> f32
    %q = arith.mulf %p, %half : f32
    %r = arith.mulf %p, %half : f32
    %s = arith.addf %q, %r : f32
    return %s : f32
  }

  func.func @ring_weights(%n: index, %w: f32) -> f32 {
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    %c4 = arith.constant 4 : index
    %one = arith.constant 1.0 : f32
    %out = scf.for %i = %c0 to %n step %c1 iter_args(%acc = %one) -> (f32) {
      %inner = scf.for %j = %c0 to %c4 step %c1 iter_args(%a = %acc) -> (f32) {
        %m = arith.mulf %a, %w : f32
        scf.yield %m : f32
      }
      scf.yield %inner : f32
    }
    return %out : f32
  }

  func.func @constant_fold() -> i32 {
    %a = arith.constant 6 : i32
    %b = arith.constant 7 : i32
    %c = arith.muli %a, %b : i32
    %true = arith.constant true
    %r = scf.if %true -> (i32) {
      scf.yield %c : i32
    } else {
      %z = arith.constant 0 : i32
      scf.yield %z : i32
    }
    return %r : i32
  }
}
