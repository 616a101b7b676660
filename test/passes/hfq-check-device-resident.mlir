// The GPU target's guarantee: after bufferization nothing but kernel calls
// touches a device buffer (an alloc, or a public function's memref
// argument). Views, metadata, calls and frees pass; a load, store or copy
// is one error naming the op and the buffer.
// RUN: hfq-opt %s -split-input-file -verify-diagnostics -hfq-check-device-resident | FileCheck %s

func.func private @kernel(memref<?x4xbf16>, memref<?x4xbf16>) -> i32

// CHECK-LABEL: func.func @only_calls
func.func @only_calls(%ids: memref<?xi64>, %n: index) -> memref<?x4xbf16> {
  %a = memref.alloc(%n) : memref<?x4xbf16>
  %b = memref.alloc(%n) : memref<?x4xbf16>
  %v = memref.subview %a[0, 0] [%n, 4] [1, 1] : memref<?x4xbf16> to memref<?x4xbf16, strided<[4, 1]>>
  %c = memref.cast %b : memref<?x4xbf16> to memref<?x4xbf16>
  %s = func.call @kernel(%c, %a) : (memref<?x4xbf16>, memref<?x4xbf16>) -> i32
  %d = memref.dim %v, %n : memref<?x4xbf16, strided<[4, 1]>>
  memref.dealloc %a : memref<?x4xbf16>
  return %b : memref<?x4xbf16>
}

// -----

func.func @load_of_alloc(%n: index) -> bf16 {
  %c0 = arith.constant 0 : index
  // expected-note @below {{the device buffer: a buffer allocated here}}
  %a = memref.alloc(%n) : memref<?x4xbf16>
  %v = memref.subview %a[0, 0] [%n, 4] [1, 1] : memref<?x4xbf16> to memref<?x4xbf16, strided<[4, 1]>>
  // expected-error @below {{'memref.load' would read or write device memory on the host}}
  %x = memref.load %v[%c0, %c0] : memref<?x4xbf16, strided<[4, 1]>>
  return %x : bf16
}

// -----

// expected-note @below {{the device buffer: argument #0 of @copy_of_cache}}
func.func @copy_of_cache(%cache: memref<2x8xbf16>) {
  %host = memref.alloca() : memref<2x8xbf16>
  // expected-error @below {{'memref.copy' would read or write device memory on the host}}
  memref.copy %cache, %host : memref<2x8xbf16> to memref<2x8xbf16>
  return
}

// -----

// A private function's arguments are not the host's buffers: only the
// public entry points' are checked.
// CHECK-LABEL: func.func private @helper
func.func private @helper(%m: memref<4xbf16>) -> bf16 {
  %c0 = arith.constant 0 : index
  %x = memref.load %m[%c0] : memref<4xbf16>
  return %x : bf16
}

// -----

// On-the-fly quantization fills its packed buffers on the host.
func.func private @hfq_ref_quanto_quantize_bf16(memref<?x?xbf16>, memref<4x8xi64>) -> i32

func.func @quantize_into_device(%w: memref<?x?xbf16>, %n: index) {
  %table = memref.alloca() : memref<4x8xi64>
  // expected-note @below {{the device buffer: a buffer allocated here}}
  %packed = memref.alloc(%n, %n) : memref<?x?xbf16>
  // expected-error @below {{'hfq_ref_quanto_quantize_bf16' quantizes on the host into a device buffer}}
  %s = func.call @hfq_ref_quanto_quantize_bf16(%packed, %table) : (memref<?x?xbf16>, memref<4x8xi64>) -> i32
  return
}

// -----

// ... and names them in its tensor tables, which the host reads.
func.func @address_in_a_table(%n: index) {
  %table = memref.alloca() : memref<1x8xi64>
  %c0 = arith.constant 0 : index
  // expected-note @below {{the device buffer: a buffer allocated here}}
  %packed = memref.alloc(%n) : memref<?xi8>
  // expected-error @below {{puts a device buffer's address in a tensor table}}
  %p = memref.extract_aligned_pointer_as_index %packed : memref<?xi8> -> index
  %i = arith.index_cast %p : index to i64
  memref.store %i, %table[%c0, %c0] : memref<1x8xi64>
  return
}
