// Unit tests of the PTX parser, one construct at a time: module directives, declarations, functions, operands.
#include "ptx_translate/Parser.h"

#include <catch2/catch.hpp>

#include <cstring>
#include <string>

using namespace cushim::ptx;

namespace {

const std::string Header = ".version 9.0\n.target sm_80\n.address_size 64\n";

Module parseOk(const std::string &Text) {
  auto R = parsePtx(Text, "t.ptx");
  INFO((R ? std::string() : R.error().message()));
  REQUIRE(R);
  return std::move(*R);
}

std::string parseErr(const std::string &Text) {
  auto R = parsePtx(Text, "t.ptx");
  REQUIRE_FALSE(R);
  CHECK(R.error().code() == CUDA_ERROR_INVALID_PTX);
  return R.error().message();
}

// Wraps a body in a kernel and returns its statements.
std::vector<Statement> body(const std::string &Body) {
  static Module Keep;
  Keep = parseOk(Header + ".visible .entry k()\n{\n" + Body + "\n}\n");
  REQUIRE(Keep.Functions.size() == 1);
  REQUIRE(Keep.Functions[0].Body);
  return Keep.Functions[0].Body->Body;
}

Instruction inst(const std::string &Line) {
  auto B = body(Line);
  REQUIRE(B.size() == 1);
  REQUIRE(B[0].is<Instruction>());
  return B[0].as<Instruction>();
}

const RegOperand &reg(const Operand &O) {
  REQUIRE(O.is<RegOperand>());
  return O.as<RegOperand>();
}

} // namespace

TEST_CASE("module header directives", "[ptx][parser]") {
  Module M = parseOk(".version 8.5\n.target sm_90a, texmode_independent, debug\n.address_size 32\n"
                     ".file 1 \"/tmp/a.cu\", 1690000000, 1234\n.file\t2 \"b.h\"\n.pragma \"nounroll\";\n");
  CHECK(M.VersionMajor == 8);
  CHECK(M.VersionMinor == 5);
  CHECK(M.Target == std::vector<std::string>{"sm_90a", "texmode_independent", "debug"});
  CHECK(M.AddressSize == 32);
  REQUIRE(M.Files.size() == 2);
  CHECK(M.Files[0].Index == 1);
  CHECK(M.Files[0].Path == "/tmp/a.cu");
  CHECK(M.Files[1].Path == "b.h");
  CHECK(M.Pragmas == std::vector<std::string>{"nounroll"});
}

TEST_CASE("module-scope variables", "[ptx][parser]") {
  Module M = parseOk(Header + R"(
.global .align 4 .b8 buf[16] = {1, 2, 0x3, 0};
.extern .shared .align 16 .b8 smem[];
.const .align 8 .f64 c0 = 0d3FF0000000000000;
.visible .global .v4 .f32 vec4;
.global .u32 arr2d[2][3] = {{1, 2, 3}, {4, 5, 6}};
.global .align 8 .u64 ptrs[3] = {generic(buf), buf+8, smem};
.global .attribute(.managed) .align 4 .u32 managedVar;
.global .attribute(.unified(0x1234, 0x5678)) .f32 unifiedVar;
.weak .global .align 4 .s32 weakVar = -7;
.common .global .align 4 .u32 commonVar;
.global .texref tex0;
.global .samplerref smp = {addr_mode_0 = clamp_to_edge, filter_mode = linear};
.global .f32 flt[2] = {1.5, 0fBF800000};
.global .u8 str[] = {104, 105, 0};
.global .u32 a, b = 2;
)");
  REQUIRE(M.Globals.size() == 16);
  const VariableDecl &Buf = M.Globals[0];
  CHECK(Buf.Space == StateSpace::Global);
  CHECK(Buf.Align == 4);
  CHECK(Buf.Type == ScalarType::B8);
  CHECK(Buf.Name == "buf");
  REQUIRE(Buf.Dims.size() == 1);
  CHECK(Buf.Dims[0] == 16u);
  CHECK(Buf.sizeInBytes() == 16);
  REQUIRE(Buf.Init);
  CHECK(Buf.Init->K == Initializer::List);
  REQUIRE(Buf.Init->Elements.size() == 4);
  CHECK(Buf.Init->Elements[2].IntValue.Value == 3);
  CHECK(Buf.Loc.Line == 5);

  const VariableDecl &Smem = M.Globals[1];
  CHECK(Smem.Link == Linkage::Extern);
  CHECK(Smem.Space == StateSpace::Shared);
  REQUIRE(Smem.Dims.size() == 1);
  CHECK_FALSE(Smem.Dims[0].has_value());
  CHECK(Smem.sizeInBytes() == 0);
  CHECK(Smem.alignment() == 16);

  CHECK(M.Globals[2].Init->K == Initializer::Float);
  CHECK(M.Globals[2].Init->FloatValue.Fmt == FloatOperand::HexF64);
  CHECK(M.Globals[2].Init->FloatValue.Value == 1.0);

  CHECK(M.Globals[3].Link == Linkage::Visible);
  CHECK(M.Globals[3].VectorWidth == 4);
  CHECK(M.Globals[3].sizeInBytes() == 16);
  CHECK(M.Globals[3].alignment() == 16);

  const VariableDecl &A2 = M.Globals[4];
  REQUIRE(A2.Dims.size() == 2);
  CHECK(A2.sizeInBytes() == 24);
  REQUIRE(A2.Init->Elements.size() == 2);
  CHECK(A2.Init->Elements[1].K == Initializer::List);
  CHECK(A2.Init->Elements[1].Elements[2].IntValue.Value == 6);

  const Initializer &P = *M.Globals[5].Init;
  REQUIRE(P.Elements.size() == 3);
  CHECK(P.Elements[0].K == Initializer::Symbol);
  CHECK(P.Elements[0].GenericSymbol);
  CHECK(P.Elements[0].SymbolValue.Name == "buf");
  CHECK(P.Elements[1].SymbolValue.Offset == 8);
  CHECK_FALSE(P.Elements[1].GenericSymbol);
  CHECK(P.Elements[2].SymbolValue.Name == "smem");

  CHECK(M.Globals[6].Managed);
  CHECK(M.Globals[6].Align == 4);
  CHECK(M.Globals[7].Unified);
  CHECK(M.Globals[8].Link == Linkage::Weak);
  CHECK(M.Globals[8].Init->IntValue.Value == static_cast<uint64_t>(-7));
  CHECK(M.Globals[9].Link == Linkage::Common);
  CHECK(M.Globals[10].Type == ScalarType::TexRef);
  CHECK(M.Globals[11].Type == ScalarType::SamplerRef);
  CHECK(M.Globals[11].Init->Elements[1].SymbolValue.Name == "filter_mode=linear");
  CHECK(M.Globals[12].Init->Elements[0].FloatValue.Value == 1.5);
  CHECK(M.Globals[12].Init->Elements[1].FloatValue.Bits == 0xBF800000u);
  CHECK(M.Globals[12].Init->Elements[1].FloatValue.Value == -1.0);
  // An unsized array takes its size from the initializer.
  CHECK(M.Globals[13].Dims[0] == 3u);
  CHECK(M.Globals[14].Name == "a");
  CHECK(M.Globals[15].Name == "b");
  CHECK(M.Globals[15].Init->IntValue.Value == 2);
  REQUIRE(M.Order.size() == 16);
  CHECK(M.Order[3] == std::make_pair(false, size_t(3)));
}

TEST_CASE("byte-mask initializers", "[ptx][parser]") {
  Module M = parseOk(Header + R"(
.global .u32 foo;
.global .align 1 .b8 addr[6] = {0xFF(foo), 0xFF00(foo+4), 0xFF0000(generic(foo)+8),
                                 0xFF(1000 + 546), 0xFF00(131187), 7};
)");
  const Initializer &I = *M.Globals[1].Init;
  REQUIRE(I.Elements.size() == 6);
  CHECK(I.Elements[0].K == Initializer::Symbol);
  CHECK(I.Elements[0].IntValue.Value == 0xFF);
  CHECK(I.Elements[0].SymbolValue.Name == "foo");
  CHECK(I.Elements[1].IntValue.Value == 0xFF00);
  CHECK(I.Elements[1].SymbolValue.Offset == 4);
  CHECK(I.Elements[2].GenericSymbol);
  CHECK(I.Elements[2].SymbolValue.Offset == 8);
  CHECK(I.Elements[2].IntValue.Value == 0xFF0000);
  CHECK(I.Elements[3].K == Initializer::Int);
  CHECK(I.Elements[3].IntValue.Value == (1546 & 0xFF));
  CHECK(I.Elements[4].IntValue.Value == ((131187 >> 8) & 0xFF));
  CHECK(I.Elements[5].IntValue.Value == 7);
  // Plain symbol initializers carry no mask.
  Module N = parseOk(Header + ".global .u32 foo;\n.global .u64 p = foo;\n");
  CHECK(N.Globals[1].Init->IntValue.Value == 0);
  CHECK_THAT(parseErr(Header + ".global .u8 b = 0xF0(foo);"), Catch::Contains("mask() initializer"));
}

TEST_CASE("entry and func signatures", "[ptx][parser]") {
  Module M = parseOk(Header + R"(
.extern .func (.param .b32 func_retval0) vprintf
(
	.param .b64 vprintf_param_0,
	.param .b64 vprintf_param_1
)
;
.global .u32 g;
.visible .entry _Z5saxpyifPKfPf(
	.param .u32 _Z5saxpyifPKfPf_param_0,
	.param .u64 .ptr.global.align 16 _Z5saxpyifPKfPf_param_1,
	.param .align 8 .b8 _Z5saxpyifPKfPf_param_2[24]
)
.maxntid 256, 1, 1
.minnctapersm 2
{
	ret;
}
.func (.param .align 16 .b8 retval[16]) varfn(.reg .u32 a, .param .align 8 .b8 rest[]) .noreturn
{
	{
		ret;
	}
}
.weak .func nothing;
.entry clustered .reqntid 64, 2 .reqnctapercluster 2, 1, 1 .explicitcluster .maxclusterrank 8 .maxnreg 64
.maxnctapersm 4 .pragma "nounroll"; .blocksareclusters .abi_preserve 4 .abi_preserve_control 2
{
}
)");
  REQUIRE(M.Functions.size() == 5);
  const Function &V = M.Functions[0];
  CHECK_FALSE(V.IsEntry);
  CHECK(V.Link == Linkage::Extern);
  CHECK(V.Name == "vprintf");
  REQUIRE(V.Returns.size() == 1);
  CHECK(V.Returns[0].Name == "func_retval0");
  CHECK(V.Returns[0].Type == ScalarType::B32);
  REQUIRE(V.Params.size() == 2);
  CHECK(V.Params[1].Name == "vprintf_param_1");
  CHECK_FALSE(V.Body);

  const Function &K = M.Functions[1];
  CHECK(K.IsEntry);
  CHECK(K.Link == Linkage::Visible);
  REQUIRE(K.Params.size() == 3);
  CHECK(K.Params[1].Type == ScalarType::U64);
  CHECK(K.Params[1].Space == StateSpace::Param);
  CHECK(K.Params[1].PtrSpace == StateSpace::Global);
  CHECK(K.Params[1].PtrAlign == 16);
  CHECK(K.Params[1].Align == 0);
  CHECK(K.Params[2].Align == 8);
  CHECK(K.Params[2].sizeInBytes() == 24);
  CHECK(K.Directives.MaxNTid == std::vector<uint32_t>{256, 1, 1});
  CHECK(K.Directives.MinNCtaPerSm == 2u);
  REQUIRE(K.Body);
  CHECK(K.Body->Body.size() == 1);
  CHECK(K.Loc.Line == 12);

  const Function &F = M.Functions[2];
  CHECK(F.Name == "varfn");
  CHECK(F.VarArgs);
  REQUIRE(F.Params.size() == 2);
  CHECK(F.Params[0].Space == StateSpace::Reg);
  CHECK(F.Returns[0].sizeInBytes() == 16);
  CHECK(F.Directives.NoReturn);
  REQUIRE(F.Body->Body.size() == 1);
  CHECK(F.Body->Body[0].is<Block>());

  CHECK(M.Functions[3].Link == Linkage::Weak);
  CHECK(M.Functions[3].Params.empty());
  CHECK_FALSE(M.Functions[3].Body);

  const FunctionDirectives &D = M.Functions[4].Directives;
  CHECK(D.ReqNTid == std::vector<uint32_t>{64, 2});
  CHECK(D.ReqNCtaPerCluster == std::vector<uint32_t>{2, 1, 1});
  CHECK(D.ExplicitCluster);
  CHECK(D.MaxClusterRank == 8u);
  CHECK(D.MaxNReg == 64u);
  CHECK(D.MaxNCtaPerSm == 4u);
  CHECK(D.Pragmas == std::vector<std::string>{"nounroll"});
  CHECK(M.Functions[4].Body->Body.empty());

  REQUIRE(M.Order.size() == 6);
  CHECK(M.Order[0] == std::make_pair(true, size_t(0)));
  CHECK(M.Order[1] == std::make_pair(false, size_t(0)));
  CHECK(M.Order[2] == std::make_pair(true, size_t(1)));
  CHECK(M.Order[5] == std::make_pair(true, size_t(4)));
}

TEST_CASE("unknown function directives are named in the error", "[ptx][parser]") {
  std::string Msg = parseErr(Header + ".entry k() .maxthreads 12 { ret; }");
  CHECK_THAT(Msg, Catch::Contains("t.ptx:4:12") && Catch::Contains("unknown function directive '.maxthreads'"));
}

TEST_CASE("body declarations", "[ptx][parser]") {
  auto B = body(R"(
	.local .align 8 .b8 	__local_depot0[16];
	.reg .b64 	%SP;
	.reg .pred 	%p<3>;
	.reg .b32 	%r<10>, %q;
	.reg .v4 .f32 %v;
	.shared .align 4 .b8 _ZZ1kE4smem[1024];
	.param .align 16 .b8 param0[16];
)");
  REQUIRE(B.size() == 8);
  const auto &Depot = B[0].as<VariableDecl>();
  CHECK(Depot.Space == StateSpace::Local);
  CHECK(Depot.Name == "__local_depot0");
  CHECK(Depot.sizeInBytes() == 16);
  CHECK(B[1].as<VariableDecl>().Name == "%SP");
  CHECK(B[2].as<VariableDecl>().Type == ScalarType::Pred);
  CHECK(B[2].as<VariableDecl>().RangeCount == 3u);
  CHECK(B[3].as<VariableDecl>().RangeCount == 10u);
  CHECK(B[4].as<VariableDecl>().Name == "%q");
  CHECK_FALSE(B[4].as<VariableDecl>().RangeCount);
  CHECK(B[5].as<VariableDecl>().VectorWidth == 4);
  CHECK(B[6].as<VariableDecl>().Space == StateSpace::Shared);
  CHECK(B[7].as<VariableDecl>().Space == StateSpace::Param);
  CHECK(B[7].as<VariableDecl>().Loc.Line == 13);
  CHECK(B[7].as<VariableDecl>().Loc.Column == 2);
}

TEST_CASE("opcode and modifiers split", "[ptx][parser]") {
  Instruction I = inst("ld.global.L2::128B.v2.f32 {%f1, %f2}, [%rd1];");
  CHECK(I.Opcode == "ld");
  CHECK(I.Mods == std::vector<std::string>{"global", "L2::128B", "v2", "f32"});
  CHECK(I.hasMod("L2::128B"));
  CHECK(I.hasMod(".v2"));
  CHECK_FALSE(I.hasMod("v4"));
  REQUIRE(I.Operands.size() == 2);
  REQUIRE(I.Operands[0].is<VectorOperand>());
  CHECK(I.Operands[0].as<VectorOperand>().Elements.size() == 2);
  CHECK(I.Loc.Line == 6);
  CHECK(I.Loc.Column == 1);

  I = inst("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%f1,%f2,%f3,%f4}, {%r1,%r2,%r3,%r4}, {%r5,%r6}, "
           "{%f5,%f6,%f7,%f8};");
  CHECK(I.Opcode == "mma");
  CHECK(I.Mods.size() == 9);
  CHECK(I.Mods[2] == "m16n8k16");
  CHECK(I.Operands.size() == 4);

  I = inst("cp.async.bulk.tensor.2d.shared::cluster.global.mbarrier::complete_tx::bytes [%r1], [%rd1, {%r2, %r3}], "
           "[%r4];");
  CHECK(I.Mods[3] == "2d");
  CHECK(I.Mods[4] == "shared::cluster");
  CHECK(I.Mods[6] == "mbarrier::complete_tx::bytes");

  I = inst("ret;");
  CHECK(I.Opcode == "ret");
  CHECK(I.Mods.empty());
  CHECK(I.Operands.empty());
}

TEST_CASE("guards and labels", "[ptx][parser]") {
  auto B = body("@%p1 bra $L__BB0_2;\n@!%p2 bra.uni $L__BB0_3;\n$L__BB0_2:\n$L__BB0_3: exit;");
  REQUIRE(B.size() == 5);
  const auto &I0 = B[0].as<Instruction>();
  REQUIRE(I0.Guard);
  CHECK(I0.Guard->Name == "%p1");
  CHECK_FALSE(I0.Guard->Negated);
  REQUIRE(I0.Operands.size() == 1);
  REQUIRE(I0.Operands[0].is<SymbolOperand>());
  CHECK(I0.Operands[0].as<SymbolOperand>().Name == "$L__BB0_2");
  CHECK(B[1].as<Instruction>().Guard->Negated);
  CHECK(B[1].as<Instruction>().Mods == std::vector<std::string>{"uni"});
  REQUIRE(B[2].is<Label>());
  CHECK(B[2].as<Label>().Name == "$L__BB0_2");
  CHECK(B[2].as<Label>().Loc.Line == 8);
  CHECK(B[3].as<Label>().Name == "$L__BB0_3");
  CHECK(B[4].as<Instruction>().Opcode == "exit");
}

TEST_CASE("register operands, components and predicates", "[ptx][parser]") {
  Instruction I = inst("mov.u32 %r1, %tid.x;");
  CHECK(reg(I.Operands[0]).Name == "%r1");
  CHECK(reg(I.Operands[0]).Component == -1);
  CHECK(reg(I.Operands[1]).Name == "%tid");
  CHECK(reg(I.Operands[1]).Component == 0);
  CHECK(reg(inst("mov.u32 %r1, %ntid.z;").Operands[1]).Component == 2);
  CHECK(reg(inst("mov.f32 %f1, %v.w;").Operands[1]).Component == 3);
  CHECK(reg(inst("mov.u32 %r1, %laneid;").Operands[1]).Name == "%laneid");

  I = inst("selp.b32 %r1, %r2, %r3, !%p1;");
  CHECK(reg(I.Operands[3]).Negated);

  I = inst("setp.lt.and.s32 %p1|%p2, %r1, %r2, %p3;");
  REQUIRE(I.Operands[0].PairSecond);
  CHECK(I.Operands[0].PairSecond->Name == "%p2");
  CHECK(reg(I.Operands[0]).Name == "%p1");

  I = inst("shfl.sync.bfly.b32 %r1|%p1, %r2, 1, 31, -1;");
  REQUIRE(I.Operands.size() == 5);
  CHECK(I.Operands[0].PairSecond->Name == "%p1");
  CHECK(I.Operands[4].as<IntOperand>().Value == 0xFFFFFFFFFFFFFFFFull);
  CHECK(I.Operands[3].as<IntOperand>().Value == 31);
}

TEST_CASE("integer and float literals", "[ptx][parser]") {
  Instruction I = inst("foo.b32 %r1, 42, 0x1F, 017, 0b101, 7U, -5, 0xFFFFFFFFFFFFFFFF, 0;");
  REQUIRE(I.Operands.size() == 9);
  CHECK(I.Operands[1].as<IntOperand>().Value == 42);
  CHECK(I.Operands[2].as<IntOperand>().Value == 31);
  CHECK(I.Operands[3].as<IntOperand>().Value == 15);
  CHECK(I.Operands[4].as<IntOperand>().Value == 5);
  CHECK(I.Operands[5].as<IntOperand>().Value == 7);
  CHECK(I.Operands[5].as<IntOperand>().IsUnsigned);
  CHECK_FALSE(I.Operands[4].as<IntOperand>().IsUnsigned);
  CHECK(static_cast<int64_t>(I.Operands[6].as<IntOperand>().Value) == -5);
  CHECK(I.Operands[7].as<IntOperand>().Value == UINT64_MAX);
  CHECK(I.Operands[8].as<IntOperand>().Value == 0);

  I = inst("fma.rn.f32 %f1, 0f3F800000, 0d4000000000000000, 1.5, 1e-3, -0f3F800000, -2.25;");
  const auto &H32 = I.Operands[1].as<FloatOperand>();
  CHECK(H32.Fmt == FloatOperand::HexF32);
  CHECK(H32.Bits == 0x3F800000u);
  CHECK(H32.Value == 1.0);
  const auto &H64 = I.Operands[2].as<FloatOperand>();
  CHECK(H64.Fmt == FloatOperand::HexF64);
  CHECK(H64.Bits == 0x4000000000000000ull);
  CHECK(H64.Value == 2.0);
  CHECK(I.Operands[3].as<FloatOperand>().Fmt == FloatOperand::Decimal);
  CHECK(I.Operands[3].as<FloatOperand>().Value == 1.5);
  CHECK(I.Operands[4].as<FloatOperand>().Value == Approx(1e-3));
  CHECK(I.Operands[5].as<FloatOperand>().Bits == 0xBF800000u);
  CHECK(I.Operands[5].as<FloatOperand>().Value == -1.0);
  CHECK(I.Operands[6].as<FloatOperand>().Value == -2.25);

  // NaN payloads survive exactly in Bits.
  I = inst("mov.f32 %f1, 0f7FC00001;");
  CHECK(I.Operands[1].as<FloatOperand>().Bits == 0x7FC00001u);

  CHECK_THAT(parseErr(Header + ".entry k() { mov.u32 %r1, 018; }"), Catch::Contains("invalid digit '8'"));
  CHECK_THAT(parseErr(Header + ".entry k() { mov.u32 %r1, 99999999999999999999; }"),
             Catch::Contains("does not fit in 64 bits"));
}

TEST_CASE("address operands", "[ptx][parser]") {
  Instruction I = inst("ld.param.u64 %rd1, [_Z5saxpyifPKfPf_param_0];");
  const auto &A0 = I.Operands[1].as<AddressOperand>();
  CHECK(A0.BaseSymbol == std::string("_Z5saxpyifPKfPf_param_0"));
  CHECK_FALSE(A0.BaseReg);
  CHECK(A0.Offset == 0);

  I = inst("st.global.v2.f32 [%rd1+8], {%f1, %f2};");
  CHECK(I.Operands[0].as<AddressOperand>().BaseReg->Name == "%rd1");
  CHECK(I.Operands[0].as<AddressOperand>().Offset == 8);

  CHECK(inst("ld.u32 %r1, [%r2+-4];").Operands[1].as<AddressOperand>().Offset == -4);
  CHECK(inst("ld.u32 %r1, [%r2-16];").Operands[1].as<AddressOperand>().Offset == -16);
  CHECK(inst("ld.u32 %r1, [%r2 + 0x10];").Operands[1].as<AddressOperand>().Offset == 16);
  I = inst("st.param.b64 [param0+16], %rd1;");
  CHECK(I.Operands[0].as<AddressOperand>().BaseSymbol == std::string("param0"));
  CHECK(I.Operands[0].as<AddressOperand>().Offset == 16);
  I = inst("ld.global.u32 %r1, [12];");
  CHECK_FALSE(I.Operands[1].as<AddressOperand>().BaseReg);
  CHECK_FALSE(I.Operands[1].as<AddressOperand>().BaseSymbol);
  CHECK(I.Operands[1].as<AddressOperand>().Offset == 12);
  I = inst("atom.global.cas.b32 %r1, [%rd1], %r2, %r3;");
  CHECK(I.Operands.size() == 4);
  CHECK(I.Mods == std::vector<std::string>{"global", "cas", "b32"});
}

TEST_CASE("texture-style bracket groups are flattened", "[ptx][parser]") {
  Instruction I = inst("tex.2d.v4.f32.f32 {%f5, %f6, %f7, %f8}, [%rd1, {%f2, %f4}];");
  REQUIRE(I.Operands.size() == 3);
  CHECK(I.Operands[0].is<VectorOperand>());
  REQUIRE(I.Operands[1].is<AddressOperand>());
  CHECK(I.Operands[1].as<AddressOperand>().BaseReg->Name == "%rd1");
  CHECK(I.Operands[1].as<AddressOperand>().Offset == 0);
  REQUIRE(I.Operands[2].is<VectorOperand>());
  CHECK(I.Operands[2].as<VectorOperand>().Elements.size() == 2);

  I = inst("tex.2d.v4.f32.f32 {%f1, %f2, %f3, %f4}, [tex0, smp, {%f5, %f6}];");
  REQUIRE(I.Operands.size() == 4);
  CHECK(I.Operands[1].as<AddressOperand>().BaseSymbol == std::string("tex0"));
  CHECK(I.Operands[2].as<SymbolOperand>().Name == "smp");
  CHECK(I.Operands[3].is<VectorOperand>());

  I = inst("sust.b.2d.b32.trap [%rd1, {%r3, %r7}], {%r6};");
  REQUIRE(I.Operands.size() == 3);
  CHECK(I.Operands[0].is<AddressOperand>());
  CHECK(I.Operands[1].is<VectorOperand>());
  CHECK(I.Operands[2].is<VectorOperand>());
}

TEST_CASE("vector, sink and symbol operands", "[ptx][parser]") {
  Instruction I = inst("mov.b64 {%r1, %r2}, %rd1;");
  CHECK(I.Operands[0].as<VectorOperand>().Elements[1].as<RegOperand>().Name == "%r2");
  I = inst("ld.global.v4.u32 {%r1, _, %r3, _}, [%rd1];");
  const auto &V = I.Operands[0].as<VectorOperand>();
  REQUIRE(V.Elements.size() == 4);
  CHECK(V.Elements[1].is<SinkOperand>());
  CHECK(V.Elements[2].is<RegOperand>());
  I = inst("mov.u64 %rd1, smem;");
  CHECK(I.Operands[1].as<SymbolOperand>().Name == "smem");
  I = inst("mov.u64 %rd1, smem+16;");
  CHECK(I.Operands[1].as<SymbolOperand>().Offset == 16);
  I = inst("cvta.to.global.u64 %rd2, %rd1;");
  CHECK(I.Opcode == "cvta");
  CHECK(I.Mods == std::vector<std::string>{"to", "global", "u64"});
  I = inst("prmt.b32 %r1, %r2, %r3, 0x3210;");
  CHECK(I.Operands[3].as<IntOperand>().Value == 0x3210);
  I = inst("lop3.b32 %r1, %r2, %r3, %r4, 0xE8;");
  CHECK(I.Operands[4].as<IntOperand>().Value == 0xE8);
  I = inst("red.global.add.u32 [%rd1], 1;");
  CHECK(I.Operands.size() == 2);
  I = inst("ld.global.nc.v4.f32 {%f1,%f2,%f3,%f4}, [%rd2+16];");
  CHECK(I.Mods[1] == "nc");
}

TEST_CASE("call instructions", "[ptx][parser]") {
  auto B = body(R"(
	{ // callseq 0, 0
	.param .b64 param0;
	st.param.b64 	[param0], %rd1;
	.param .b32 retval0;
	call.uni (retval0),
	vprintf,
	(
	param0,
	param1
	);
	ld.param.b32 	%r1, [retval0];
	} // callseq 0
	call (retval0), %rd_fptr, (param0), prototype_2;
	call foo, (param0);
	call foo;
	call.uni (retval0), bar;
)");
  REQUIRE(B.size() == 5);
  const auto &Seq = B[0].as<Block>();
  REQUIRE(Seq.Body.size() == 5);
  const auto &C0 = Seq.Body[3].as<Instruction>();
  CHECK(C0.Opcode == "call");
  CHECK(C0.Mods == std::vector<std::string>{"uni"});
  REQUIRE(C0.Operands.size() == 3);
  CHECK(C0.Operands[0].as<ListOperand>().Elements.size() == 1);
  CHECK(C0.Operands[0].as<ListOperand>().Elements[0].as<SymbolOperand>().Name == "retval0");
  CHECK(C0.Operands[1].as<SymbolOperand>().Name == "vprintf");
  CHECK(C0.Operands[2].as<ListOperand>().Elements.size() == 2);

  const auto &C1 = B[1].as<Instruction>();
  REQUIRE(C1.Operands.size() == 4);
  CHECK(C1.Operands[1].as<RegOperand>().Name == "%rd_fptr");
  CHECK(C1.Operands[3].as<SymbolOperand>().Name == "prototype_2");

  const auto &C2 = B[2].as<Instruction>();
  REQUIRE(C2.Operands.size() == 3);
  CHECK(C2.Operands[0].as<ListOperand>().Elements.empty());
  CHECK(C2.Operands[1].as<SymbolOperand>().Name == "foo");
  CHECK(C2.Operands[2].as<ListOperand>().Elements.size() == 1);

  const auto &C3 = B[3].as<Instruction>();
  REQUIRE(C3.Operands.size() == 3);
  CHECK(C3.Operands[0].as<ListOperand>().Elements.empty());
  CHECK(C3.Operands[2].as<ListOperand>().Elements.empty());

  const auto &C4 = B[4].as<Instruction>();
  REQUIRE(C4.Operands.size() == 3);
  CHECK(C4.Operands[0].as<ListOperand>().Elements.size() == 1);
  CHECK(C4.Operands[2].as<ListOperand>().Elements.empty());
}

TEST_CASE("callprototype, branchtargets and calltargets", "[ptx][parser]") {
  auto B = body(R"(
prototype_2 : .callprototype (.param .b32 _) _ (.param .b32 _, .param .b64 _);
proto_v: .callprototype _ (.param .b32 _, .param .align 8 .b8 _[]);
ts: .branchtargets $L1, $L2, $L3;
ct: .calltargets foo, bar;
brx.idx %r1, ts;
)");
  REQUIRE(B.size() == 5);
  const auto &P = B[0].as<CallPrototype>();
  CHECK(P.Label == "prototype_2");
  REQUIRE(P.Returns.size() == 1);
  CHECK(P.Returns[0].Name == "_");
  REQUIRE(P.Params.size() == 2);
  CHECK(P.Params[1].Type == ScalarType::B64);
  CHECK_FALSE(P.VarArgs);
  const auto &PV = B[1].as<CallPrototype>();
  CHECK(PV.Returns.empty());
  CHECK(PV.VarArgs);
  const auto &T = B[2].as<BranchTargets>();
  CHECK(T.Label == "ts");
  CHECK(T.Targets == std::vector<std::string>{"$L1", "$L2", "$L3"});
  const auto &CT = B[3].as<OtherDirective>();
  CHECK(CT.Name == "calltargets");
  CHECK(CT.Text == "ct: foo, bar");
  CHECK(B[4].as<Instruction>().Operands[1].as<SymbolOperand>().Name == "ts");
}

TEST_CASE("body directives: pragma and loc", "[ptx][parser]") {
  Module M = parseOk(Header + ".entry k()\n{\n\t.loc\t1 10 5, function_name $L__info_string0, inlined_at 1 20 3\n"
                              "\t.pragma \"nounroll\";\n\tret;\n}\n");
  const auto &B = M.Functions[0].Body->Body;
  REQUIRE(B.size() == 3);
  CHECK(B[0].as<OtherDirective>().Name == "loc");
  CHECK(B[0].as<OtherDirective>().Text == "1 10 5, function_name $L__info_string0, inlined_at 1 20 3");
  CHECK(B[1].as<OtherDirective>().Name == "pragma");
  CHECK(B[1].as<OtherDirective>().Text == "\"nounroll\"");
  CHECK(M.Functions[0].Directives.Pragmas == std::vector<std::string>{"nounroll"});
  CHECK(B[2].as<Instruction>().Opcode == "ret");
  Module N = parseOk(Header + ".entry k() { { .loc 1 2 3 } ret; }");
  const auto &NB = N.Functions[0].Body->Body;
  REQUIRE(NB.size() == 2);
  CHECK(NB[0].as<Block>().Body[0].as<OtherDirective>().Text == "1 2 3");
}

TEST_CASE("registers declared without '%' are registers", "[ptx][parser]") {
  auto B = body(".reg .b32 r<4>, x;\nadd.s32 r1, r2, x;\nmov.u32 r3, sym;\nmov.u32 r5, r4;");
  const auto &I = B[2].as<Instruction>();
  CHECK(I.Operands[0].is<RegOperand>());
  CHECK(I.Operands[2].is<RegOperand>());
  CHECK(B[3].as<Instruction>().Operands[1].is<SymbolOperand>());
  // r5 and r4 are outside r<4>.
  CHECK(B[4].as<Instruction>().Operands[0].is<SymbolOperand>());
}

TEST_CASE("bare register names go out of scope with their block", "[ptx][parser]") {
  Module M = parseOk(Header + R"(
.global .u32 p;
.entry k()
{
	{ .reg .pred p; setp.eq.u32 p, %r1, 0; @p bra $L1; }
	ld.global.u32 %r1, [p];
$L1:
	ret;
}
.entry k2() { ld.global.u32 %r1, [p]; }
)");
  const auto &B = M.Functions[0].Body->Body;
  REQUIRE(B.size() == 4);
  const auto &Inner = B[0].as<Block>().Body;
  CHECK(Inner[1].as<Instruction>().Operands[0].is<RegOperand>());
  CHECK(Inner[2].as<Instruction>().Guard->Name == "p");
  const auto &Ld = B[1].as<Instruction>();
  REQUIRE(Ld.Operands[1].is<AddressOperand>());
  CHECK(Ld.Operands[1].as<AddressOperand>().BaseSymbol == std::string("p"));
  CHECK(M.Functions[1].Body->Body[0].as<Instruction>().Operands[1].as<AddressOperand>().BaseSymbol == std::string("p"));
}

TEST_CASE("older PTX: texrefs, unified texture mode, plain labels", "[ptx][parser]") {
  Module M = parseOk(R"(.version 6.5
.target sm_52, texmode_unified
.address_size 64
.global .texref tex;
.tex .u32 oldTex;
.const .align 4 .b8 c[8];
.entry _Z3fooPf(
	.param .u64 __cudaparm__Z3fooPf_out
)
{
	.reg .f32 %f<5>;
	.reg .pred %p<2>;
BB0_1:
	tex.2d.v4.f32.f32 {%f1, %f2, %f3, %f4}, [tex, {%f1, %f2}];
	ld.const.f32 %f1, [c+4];
	mov.u32 %r1, %envreg3;
	@%p1 bra.uni BB0_1;
	exit;
}
)");
  CHECK(M.VersionMajor == 6);
  CHECK(M.Target == std::vector<std::string>{"sm_52", "texmode_unified"});
  REQUIRE(M.Globals.size() == 3);
  CHECK(M.Globals[0].Type == ScalarType::TexRef);
  CHECK(M.Globals[0].sizeInBytes() == 8);
  CHECK(M.Globals[1].Space == StateSpace::Tex);
  const auto &B = M.Functions[0].Body->Body;
  REQUIRE(B.size() == 8);
  CHECK(B[2].as<Label>().Name == "BB0_1");
  const auto &Tex = B[3].as<Instruction>();
  CHECK(Tex.Operands[1].as<AddressOperand>().BaseSymbol == std::string("tex"));
  CHECK(B[4].as<Instruction>().Operands[1].as<AddressOperand>().Offset == 4);
  CHECK(B[5].as<Instruction>().Operands[1].as<RegOperand>().Name == "%envreg3");
  CHECK(B[6].as<Instruction>().Operands[0].as<SymbolOperand>().Name == "BB0_1");
  CHECK_THAT(parseErr(Header + ".alias fa, fb;"), Catch::Contains(".alias directive is not supported"));
}

TEST_CASE("section bodies are skipped", "[ptx][parser]") {
  Module M =
      parseOk(Header + ".entry k() { ret; }\n.section .debug_info\n{\n.b32 244\n.b8 2,0\n.b64 $L__func_begin0\n"
                       ".b32 .debug_abbrev\n}\n.section .debug_loc {\t}\n.section .debug_macinfo\n{\n.b8 0\n\n}\n");
  CHECK(M.Functions.size() == 1);
  CHECK(M.Globals.empty());
  Module N = parseOk(Header + ".section .nv.custom.data\n{\n.b8 1\n}\n.global .u32 after;\n");
  REQUIRE(N.Globals.size() == 1);
  CHECK(N.Globals[0].Name == "after");
  CHECK_THAT(parseErr(Header + ".section .debug_info\n{\n.b8 1\n"), Catch::Contains("unterminated .section"));
}

TEST_CASE("ast helpers", "[ptx][parser]") {
  CHECK(parseScalarType("u32") == ScalarType::U32);
  CHECK(parseScalarType(".bf16x2") == ScalarType::BF16x2);
  CHECK_FALSE(parseScalarType("u31"));
  CHECK(std::strcmp(scalarTypeName(ScalarType::E4M3x2), ".e4m3x2") == 0);
  CHECK(scalarTypeBits(ScalarType::Pred) == 1);
  CHECK(scalarTypeBits(ScalarType::B128) == 128);
  CHECK(scalarTypeBits(ScalarType::TexRef) == 0);
  CHECK(scalarTypeBits(ScalarType::None) == 0);
  for (ScalarType T : {ScalarType::Pred, ScalarType::B8, ScalarType::F16x2, ScalarType::TF32, ScalarType::SurfRef})
    CHECK(parseScalarType(scalarTypeName(T)) == T);
  VariableDecl D;
  D.Type = ScalarType::F64;
  D.VectorWidth = 2;
  D.Dims = {3};
  CHECK(D.sizeInBytes() == 48);
  CHECK(D.alignment() == 16);
  D.Align = 4;
  CHECK(D.alignment() == 4);
  D.Type = ScalarType::Pred;
  D.VectorWidth = 1;
  D.Dims.clear();
  CHECK(D.sizeInBytes() == 1);
}

TEST_CASE("parse errors name what was expected and found", "[ptx][parser]") {
  CHECK_THAT(parseErr(Header + ".entry k() { add.s32 %r1, %r2 %r3; }"),
             Catch::Contains("t.ptx:4:31: expected ';' at the end of the instruction, found identifier '%r3'"));
  CHECK_THAT(parseErr(Header + ".entry k() { ret;"),
             Catch::Contains("expected '}'") && Catch::Contains("end of input"));
  CHECK_THAT(parseErr(Header + ".global .u32;"), Catch::Contains("t.ptx:4:13: expected a variable name, found ';'"));
  CHECK_THAT(parseErr(Header + ".global x;"), Catch::Contains("expected a type"));
  CHECK_THAT(parseErr(Header + ".bogus 1;"), Catch::Contains("unknown directive '.bogus'"));
  CHECK_THAT(parseErr(Header + "ret;"), Catch::Contains("expected a directive at module scope"));
  CHECK_THAT(parseErr(Header + ".entry k() { .maxnreg 4; }"), Catch::Contains("unexpected directive '.maxnreg'"));
  CHECK_THAT(parseErr(Header + ".entry k() { mov.u32 %r1, %tid.q; }"), Catch::Contains("vector component"));
  CHECK_THAT(parseErr(".version 9\n"), Catch::Contains("malformed .version"));
  CHECK_THAT(parseErr(""), Catch::Contains("t.ptx:1:1: expected '.version' at the start"));
  CHECK_THAT(parseErr(".target sm_80\n"), Catch::Contains("expected '.version'"));
  CHECK_THAT(parseErr(Header + ".global .align 3 .u32 x;"), Catch::Contains("power of two"));
  CHECK_THAT(parseErr(Header + ".reg .u32 x;"), Catch::Contains("module scope"));
  CHECK_THAT(parseErr(Header + ".entry k() { ld.global.u32 %r1, arr[2]; }"),
             Catch::Contains("t.ptx:4:36: array-indexing operands ('arr[...]') are not supported"));
  CHECK_THAT(parseErr(Header + ".entry k() { call (r), (a); }"),
             Catch::Contains("t.ptx:4:14: expected a function name or register as the call target"));
  CHECK_THAT(parseErr(Header + ".entry k() { call foo, (a), 5; }"),
             Catch::Contains("t.ptx:4:29: expected a prototype or .calltargets label"));
  CHECK_THAT(parseErr(Header + ".entry k() { call foo, (a), p, q; }"), Catch::Contains("too many operands"));
}
