// The driver's failure case: @unsupported carries `photon.fail`, on which
// the driver's photon-fail-marked pass signals failure (once).
module {
  func.func @supported(%x: f32) -> f32 {
    %c1 = arith.constant 1.0 : f32
    %y = arith.mulf %x, %c1 : f32
    return %y : f32
  }

  func.func @unsupported(%x: f32) -> f32 attributes {photon.fail} {
    return %x : f32
  }

  func.func @also_supported(%x: f32) -> f32 {
    return %x : f32
  }
}
