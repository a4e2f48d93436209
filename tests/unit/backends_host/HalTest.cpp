// HAL surface tests of the host backend: ops table, devices, memory, modules (globals, static constructors, libm).
#include "TestSupport.h"

#include <cmath>
#include <cstring>

using namespace cushim::test;

TEST_CASE("the ops table is complete and versioned", "[hal]") {
  const cushim_hal_ops *Ops = cushim_hal_host_backend();
  REQUIRE(Ops);
  CHECK(Ops->abi_version == CUSHIM_HAL_ABI_VERSION);
  CHECK(Ops->struct_size == sizeof(cushim_hal_ops));
  CHECK(std::strcmp(Ops->name, "host") == 0);
  // Every entry after the header is filled.
  const char *Begin = reinterpret_cast<const char *>(&Ops->device_count);
  const char *End = reinterpret_cast<const char *>(Ops) + sizeof(cushim_hal_ops);
  for (const char *P = Begin; P < End; P += sizeof(void *)) {
    void *Entry;
    std::memcpy(&Entry, P, sizeof(Entry));
    CHECK(Entry != nullptr);
  }
}

TEST_CASE("device facts", "[hal][device]") {
  const cushim_hal_ops *Ops = cushim_hal_host_backend();
  int Count = 0;
  REQUIRE(Ops->device_count(&Count) == 0);
  REQUIRE(Count >= 1);
  cushim_hal_device_info Info, Again;
  REQUIRE(Ops->device_info(0, &Info) == 0);
  REQUIRE(Ops->device_info(0, &Again) == 0);
  CHECK(std::strncmp(Info.name, "cuda_shim host CPU (", 20) == 0);
  CHECK(std::memcmp(Info.uuid, Again.uuid, 16) == 0);
  CHECK(Info.total_memory > (64ull << 20));
  CHECK(Info.multiprocessor_count >= 1);
  CHECK(Info.clock_rate_khz > 0);
  CHECK(Info.integrated == 1);
  CHECK(Info.can_map_host_memory == 1);
  CHECK(Info.unified_addressing == 1);
  CHECK(Ops->device_info(Count, &Info) == CUDA_ERROR_INVALID_DEVICE);
  uint64_t Free = 0, Total = 0;
  REQUIRE(Ops->mem_info(0, &Free, &Total) == 0);
  CHECK(Total == Again.total_memory);
  CHECK(Free > 0);
  CHECK(Free <= Total);
  cushim_hal_target Target;
  REQUIRE(Ops->target_describe(0, &Target) == 0);
  CHECK(std::string(Target.triple).find("linux") != std::string::npos);
  CHECK(std::strlen(Target.cpu) > 0);
}

TEST_CASE("memory allocation, registration and handle checks", "[hal][memory]") {
  HostFixture F;
  void *P = reinterpret_cast<void *>(1);
  REQUIRE(F.Ops->mem_alloc(F.Ctx, 0, CUSHIM_HAL_MEMORY_DEVICE, &P) == 0);
  CHECK(P == nullptr);
  CHECK(F.Ops->mem_free(F.Ctx, nullptr, CUSHIM_HAL_MEMORY_DEVICE) == 0);
  for (int Kind : {CUSHIM_HAL_MEMORY_DEVICE, CUSHIM_HAL_MEMORY_PINNED_HOST, CUSHIM_HAL_MEMORY_MANAGED}) {
    void *Q = nullptr;
    REQUIRE(F.Ops->mem_alloc(F.Ctx, 1000, Kind, &Q) == 0);
    CHECK(reinterpret_cast<uintptr_t>(Q) % 256 == 0);
    std::memset(Q, 1, 1000);
    REQUIRE(F.Ops->mem_free(F.Ctx, Q, Kind) == 0);
  }
  int Local = 0;
  CHECK(F.Ops->mem_free(F.Ctx, &Local, CUSHIM_HAL_MEMORY_DEVICE) == CUDA_ERROR_INVALID_VALUE);
  std::vector<char> Host(4096);
  void *DevPtr = nullptr;
  REQUIRE(F.Ops->host_register(F.Ctx, Host.data(), Host.size(), 0, &DevPtr) == 0);
  CHECK(DevPtr == Host.data());
  CHECK(F.Ops->host_register(F.Ctx, Host.data() + 100, 10, 0, &DevPtr) == CUDA_ERROR_HOST_MEMORY_ALREADY_REGISTERED);
  REQUIRE(F.Ops->host_unregister(F.Ctx, Host.data()) == 0);
  CHECK(F.Ops->host_unregister(F.Ctx, Host.data()) == CUDA_ERROR_HOST_MEMORY_NOT_REGISTERED);

  CHECK(F.Ops->queue_query(reinterpret_cast<cushim_hal_queue>(&Local)) == CUDA_ERROR_INVALID_HANDLE);
  CHECK(F.Ops->context_destroy(reinterpret_cast<cushim_hal_context>(&Local)) == CUDA_ERROR_INVALID_HANDLE);
}

// A module with a global, a static constructor that initialises it and a kernel calling libm's expf and sinf.
static const char *GlobalsModule = R"IR(
@table = global [16 x i32] zeroinitializer, align 16
@scale = global float 0.0, align 4
@llvm.global_ctors = appending global [1 x { i32, ptr, ptr }] [{ i32, ptr, ptr } { i32 65535, ptr @init, ptr null }]
define internal void @init() {
  store volatile float 2.0, ptr @scale
  ret void
}
declare float @expf(float)
declare float @sinf(float)
define void @math(ptr %p, ptr %c) {
entry:
  %out = load ptr, ptr %p
  %inp = getelementptr inbounds i8, ptr %p, i64 8
  %x = load volatile float, ptr %inp
  %e = call float @expf(float %x)
  %s = call float @sinf(float %x)
  %k = load float, ptr @scale
  %r = fmul float %e, %k
  store float %r, ptr %out
  %o1 = getelementptr inbounds float, ptr %out, i64 1
  store float %s, ptr %o1
  %t = load i32, ptr getelementptr inbounds ([16 x i32], ptr @table, i64 0, i64 3)
  %o2 = getelementptr inbounds float, ptr %out, i64 2
  store i32 %t, ptr %o2
  ret void
}
)IR";

TEST_CASE("modules: globals with sizes, static constructors, libm calls, unknown names", "[hal][module]") {
  HostFixture F;
  std::string Object = compileIr(GlobalsModule);
  cushim_hal_module M = F.load(Object, {kernelDesc("math", 0, 12)});
  void *Table = nullptr;
  size_t Size = 0;
  REQUIRE(F.Ops->global_get(M, "table", &Table, &Size) == 0);
  CHECK(Size == 64);
  static_cast<int32_t *>(Table)[3] = 77;
  void *Scale = nullptr;
  REQUIRE(F.Ops->global_get(M, "scale", &Scale, &Size) == 0);
  CHECK(Size == 4);
  CHECK(*static_cast<float *>(Scale) == 2.0f); // the constructor ran at load
  CHECK(F.Ops->global_get(M, "missing", &Table, &Size) == CUDA_ERROR_NOT_FOUND);
  cushim_hal_kernel K = nullptr;
  CHECK(F.Ops->kernel_get(M, "nothere", &K) == CUDA_ERROR_NOT_FOUND);

  float Out[3] = {0, 0, 0};
  struct {
    float *Out;
    float X;
  } Params{Out, 0.5f};
  REQUIRE(F.launch(F.kernel(M, "math"), {1, 1, 1}, {1, 1, 1}, &Params, 12) == 0);
  REQUIRE(F.sync() == 0);
  CHECK(Out[0] == Approx(2.0f * std::exp(0.5f)));
  CHECK(Out[1] == Approx(std::sin(0.5f)));
  int32_t T;
  std::memcpy(&T, &Out[2], 4);
  CHECK(T == 77);
  REQUIRE(F.Ops->module_unload(M) == 0);
  CHECK(F.Ops->module_unload(M) == CUDA_ERROR_INVALID_HANDLE);

  // A kernel named in the descriptors but absent from the object fails the load.
  cushim_hal_module Bad = nullptr;
  std::vector<cushim_hal_kernel_desc> Missing = {kernelDesc("absent", 0, 0)};
  CHECK(F.Ops->module_load(F.Ctx, Object.data(), Object.size(), Missing.data(), 1, &Bad) == CUDA_ERROR_NOT_FOUND);
  const char Garbage[] = "not an object";
  CHECK(F.Ops->module_load(F.Ctx, Garbage, sizeof(Garbage), nullptr, 0, &Bad) == CUDA_ERROR_INVALID_IMAGE);
}

TEST_CASE("codegen rejects modules that do not verify", "[codegen]") {
  llvm::LLVMContext Ctx;
  llvm::SMDiagnostic Diag;
  auto M = llvm::parseAssemblyString("define void @f() {\nentry:\n  ret void\n}\n", Diag, Ctx);
  REQUIRE(M);
  // Break it: a block without terminator.
  llvm::BasicBlock::Create(Ctx, "dangling", M->getFunction("f"));
  auto Object = cushim::ptx::compileToObject(*M, cushim::ptx::hostTarget());
  REQUIRE_FALSE(Object);
  CHECK(Object.error().code() == CUDA_ERROR_INVALID_PTX);
}
