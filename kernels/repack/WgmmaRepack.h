//===- WgmmaRepack.h - KernelWeight -> the wgmma path's layout --*- C++ -*-===//
//
// The third stage of load-time repacking, for the Hopper path only
// (LinearPath::Wgmma): the tile layout the wave-1 kernels stream
// (KernelLayout.h) re-laid in the register-fragment order of wgmma's A
// operand (kernels/cuda/WgmmaLayout.h defines it, for this file and the
// kernel). It starts from the KernelWeight, so act order (K already sorted
// by group, `perm` kept), the padded K positions (their code is the zero
// point) and the group sizes are exactly the wave-1 kernels'. Host code
// only, so CPU-only builds test it.
//
//===----------------------------------------------------------------------===//

#ifndef HFQ_KERNELS_REPACK_WGMMAREPACK_H
#define HFQ_KERNELS_REPACK_WGMMAREPACK_H

#include "kernels/cuda/WgmmaLayout.h"
#include "kernels/repack/KernelLayout.h"

#include <cstdint>
#include <string>
#include <vector>

namespace hfq::kernels {

struct WgmmaWeight {
  int bits = 4;
  int64_t np = 0, kp = 0; // np = roundup(N, 128); kp as the KernelWeight's
  int64_t groupSize = 0;  // as the KernelWeight's (kp: one group per column)
  std::vector<uint8_t> q; // np * kp * bits / 8
  std::vector<uint16_t> scales; // G * np
  std::vector<uint16_t> zeros;  // G * np, or empty (Symmetric)
};

/// Re-lays `kw` for the wgmma path.
bool packForWgmma(const KernelWeight &kw, WgmmaWeight &out, std::string &error);

/// The inverse view, for tests: the code at row n, kernel K position j.
int wgmmaCode(const WgmmaWeight &ww, int64_t n, int64_t j);

} // namespace hfq::kernels

#endif // HFQ_KERNELS_REPACK_WGMMAREPACK_H
