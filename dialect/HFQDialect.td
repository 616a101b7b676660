//===- HFQDialect.td - The hfq dialect ---------------------*- tablegen -*-===//
//
// The dialect of Hugging Face quantization: linear layers named by their
// module path, and their quantized form under a method declared in a spec.
//
//===----------------------------------------------------------------------===//

#ifndef HFQ_DIALECT_TD
#define HFQ_DIALECT_TD

include "mlir/IR/OpBase.td"
include "mlir/IR/AttrTypeBase.td"

def HFQ_Dialect : Dialect {
  let name = "hfq";
  let cppNamespace = "::hfq";
  let summary = "Hugging Face quantization methods as IR";
  let description = [{
    `hfq.linear` is an unquantized `torch.nn.Linear` (y = x·Wᵀ + b) carrying
    its module path. `hfq.qlinear` is the same layer under a quantization
    method: its packed operands are the checkpoint tensors of that method,
    verified against the layout the method's spec declares. `hfq.quantize`
    produces those tensors from a float weight (on-the-fly quantization).

    Methods are not ops: they are data, loaded from spec files into the
    dialect's method registry (specs/README.md).
  }];
  let useDefaultAttributePrinterParser = 1;
  let extraClassDeclaration = [{
    /// The method registry the verifiers consult.
    const ::hfq::spec::MethodRegistry &getMethodRegistry() const;

  private:
    void registerAttributes();
    std::shared_ptr<const ::hfq::spec::MethodRegistry> registry;
  }];
}

class HFQ_Op<string mnemonic, list<Trait> traits = []>
    : Op<HFQ_Dialect, mnemonic, traits>;

class HFQ_Attr<string name, string attrMnemonic, list<Trait> traits = []>
    : AttrDef<HFQ_Dialect, name, traits> {
  let mnemonic = attrMnemonic;
}

#endif // HFQ_DIALECT_TD
