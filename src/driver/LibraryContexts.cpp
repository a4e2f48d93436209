// Libraries in several contexts. CUDA's libraries (cuLibraryLoadData) are context-independent: a CUkernel launched
// in a context runs that context's copy of the code and globals. cuda_shim loads a library in one context first (its
// "home" module, whose handles are the CUlibrary and its CUkernels) and in each other context that uses it on first
// use, from a retained copy of the image. With one device only the home module ever exists. A home module in a
// primary context outlives the context's reset (Module::detach): the CUlibrary and CUkernel handles stay valid, as on
// CUDA, and the module is loaded again on its next use in the reactivated context.
#include "driver/DriverApi.h"

#include "core/Module.h"
#include "fatbin/Fatbin.h"

#include <condition_variable>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <utility>

using namespace cushim;
using namespace cushim::driver;

namespace {
struct Library {
  std::string Image; // the image's bytes, or empty when Data points at a registration wrapper (lives in the program)
  const void *Data = nullptr;
  std::string Name;
  bool Runtime = false;
  core::Module *Home = nullptr;
  std::map<core::Context *, core::Module *> Copies; // other contexts' modules, keyed by their context
  std::set<core::Context *> Loading;                // contexts a thread is loading a copy for (without the lock)
  bool Gone = false;                                // unloaded, or its home's context destroyed

  const void *data() const { return Data ? Data : Image.data(); }
  size_t size() const { return Data ? 0 : Image.size(); }
};

std::mutex LibraryMutex;
std::condition_variable CopyLoaded; // a copy finished loading (or failed): waiters for the same context look again
// Every module of a library (home and copies) -> its library. Shared: a thread loading a copy keeps the library
// alive while it translates without the lock.
std::map<const core::Module *, std::shared_ptr<Library>> &libraryOf() {
  static auto *M = new std::map<const core::Module *, std::shared_ptr<Library>>;
  return *M;
}

// A context going away takes its modules with it: drop them from their libraries. A home module that keeps its
// handles (a primary context's reset) stays; a library whose home goes keeps no copies alive through it (its handles
// die with the home module of a destroyed created context).
void forgetContextLibraries(core::Context &Ctx) {
  std::lock_guard<std::mutex> G(LibraryMutex);
  auto &Of = libraryOf();
  for (auto It = Of.begin(); It != Of.end();) {
    if (&It->first->context() != &Ctx) {
      ++It;
      continue;
    }
    std::shared_ptr<Library> L = It->second;
    if (L->Home == It->first && L->Home->keepsHandles()) {
      ++It; // Context::teardown detaches it
      continue;
    }
    if (L->Home == It->first) {
      for (auto &[CopyCtx, Copy] : L->Copies) {
        Of.erase(Copy);
        (void)core::Module::unload(Copy);
      }
      L->Gone = true;
    } else {
      L->Copies.erase(&Ctx);
    }
    It = Of.erase(It);
  }
}

// Size of an image whose size the caller did not give: PTX text up to its NUL, a container by its header.
size_t imageSize(const void *Data, size_t MaxSize) {
  if (MaxSize)
    return MaxSize;
  if (fatbin::detectImageKind(Data) == fatbin::ImageKind::PtxText)
    return std::strlen(static_cast<const char *>(Data)) + 1;
  uint16_t HeaderSize = 0;
  uint64_t FatSize = 0;
  std::memcpy(&HeaderSize, static_cast<const char *>(Data) + 6, 2);
  std::memcpy(&FatSize, static_cast<const char *>(Data) + 8, 8);
  return size_t(HeaderSize) + FatSize;
}
} // namespace

void cushim::driver::noteLibrary(core::Module &Home, const void *Data, size_t MaxSize, bool Runtime) {
  static std::once_flag Once;
  std::call_once(Once, [] { core::addContextDestroyHook(forgetContextLibraries); });
  auto L = std::make_shared<Library>();
  if (fatbin::detectImageKind(Data) == fatbin::ImageKind::Wrapper)
    L->Data = Data;
  else
    L->Image.assign(static_cast<const char *>(Data), imageSize(Data, MaxSize));
  L->Name = Home.name();
  L->Runtime = Runtime;
  L->Home = &Home;
  if (Home.context().isPrimary())
    Home.setKeepsHandles();
  std::lock_guard<std::mutex> G(LibraryMutex);
  libraryOf()[&Home] = L;
}

Error cushim::driver::unloadLibrary(core::Module &Home) {
  std::shared_ptr<Library> L;
  {
    std::lock_guard<std::mutex> G(LibraryMutex);
    auto It = libraryOf().find(&Home);
    if (It != libraryOf().end() && It->second->Home == &Home) {
      L = It->second;
      L->Gone = true;
      libraryOf().erase(It);
      for (auto &[Ctx, Copy] : L->Copies)
        libraryOf().erase(Copy);
    }
  }
  Error Result = Error::success();
  if (L)
    for (auto &[Ctx, Copy] : L->Copies) {
      forgetRuntimeModule(*Copy);
      forgetLegacyLaunchState(*Copy);
      Error E = core::Module::unload(Copy);
      if (E.isError() && !Result.isError())
        Result = std::move(E);
    }
  forgetRuntimeModule(Home);
  forgetLegacyLaunchState(Home);
  Error E = core::Module::unload(&Home);
  return E.isError() ? std::move(E) : std::move(Result);
}

Expected<core::Module *> cushim::driver::libraryModuleIn(core::Module &M, core::Context &Ctx) {
  if (&M.context() == &Ctx && !M.detached())
    return &M;
  std::unique_lock<std::mutex> G(LibraryMutex);
  auto It = libraryOf().find(&M);
  if (It == libraryOf().end())
    return &M; // a module of cuModuleLoad*: it belongs to its own context only
  std::shared_ptr<Library> L = It->second;
  if (&L->Home->context() == &Ctx) {
    // Under the lock: the home module's image was translated before, so this is normally a JIT cache hit.
    if (L->Home->detached()) { // its primary context was reset since
      CUSHIM_TRY(L->Home->reattach(L->data(), L->size()));
      if (L->Runtime)
        noteRuntimeModule(*L->Home);
    }
    return L->Home;
  }
  // Another thread may be loading this context's copy: wait for it rather than translate twice.
  CopyLoaded.wait(G, [&] { return L->Gone || !L->Loading.count(&Ctx); });
  if (L->Gone)
    return makeError(CUDA_ERROR_INVALID_HANDLE, "library '" + L->Name + "' was unloaded while in use");
  if (auto Copy = L->Copies.find(&Ctx); Copy != L->Copies.end())
    return Copy->second;
  // The translation runs without the lock: other threads keep launching (and loading other copies) meanwhile.
  L->Loading.insert(&Ctx);
  G.unlock();
  auto Copy = core::Module::loadImage(Ctx, L->data(), L->size(), L->Name);
  G.lock();
  L->Loading.erase(&Ctx);
  CopyLoaded.notify_all();
  if (!Copy)
    return Copy.takeError();
  if (L->Gone) {
    G.unlock();
    (void)core::Module::unload(*Copy);
    return makeError(CUDA_ERROR_INVALID_HANDLE, "library '" + L->Name + "' was unloaded while in use");
  }
  L->Copies[&Ctx] = *Copy;
  libraryOf()[*Copy] = L;
  if (L->Runtime)
    noteRuntimeModule(**Copy);
  return *Copy;
}

Expected<core::Function *> cushim::driver::libraryKernelIn(core::Function &F, core::Context &Ctx) {
  auto M = libraryModuleIn(F.module(), Ctx);
  if (!M)
    return M.takeError();
  if (*M == &F.module())
    return &F;
  return (*M)->function(F.name());
}
