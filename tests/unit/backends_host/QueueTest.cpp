// Queue and event tests: asynchronous enqueue, ordering of host functions, events (timing, cross-queue waits),
// fills and copies.
#include "TestSupport.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <thread>

using namespace cushim::test;

namespace {

// A gate a host function blocks on until the test opens it.
struct Gate {
  std::mutex Mutex;
  std::condition_variable Cv;
  bool Open = false;
  void open() {
    {
      std::lock_guard<std::mutex> Lock(Mutex);
      Open = true;
    }
    Cv.notify_all();
  }
  static void wait(void *Self) {
    auto *G = static_cast<Gate *>(Self);
    std::unique_lock<std::mutex> Lock(G->Mutex);
    G->Cv.wait(Lock, [G] { return G->Open; });
  }
};

struct OrderLog {
  std::mutex Mutex;
  std::vector<int> Seen;
};
struct OrderItem {
  OrderLog *Log;
  int Value;
};
void appendOrder(void *P) {
  auto *Item = static_cast<OrderItem *>(P);
  std::lock_guard<std::mutex> Lock(Item->Log->Mutex);
  Item->Log->Seen.push_back(Item->Value);
}

void sleepMs(void *P) { std::this_thread::sleep_for(std::chrono::milliseconds(*static_cast<int *>(P))); }

} // namespace

TEST_CASE("enqueue returns at once and queue_query reports pending work", "[queue]") {
  HostFixture F;
  Gate G;
  REQUIRE(F.Ops->enqueue_host_func(F.Queue, &Gate::wait, &G) == 0);
  std::vector<uint8_t> Buffer(1 << 20, 0);
  REQUIRE(F.Ops->enqueue_fill(F.Queue, Buffer.data(), 0x5a, 1, Buffer.size()) == 0);
  CHECK(F.Ops->queue_query(F.Queue) == CUDA_ERROR_NOT_READY);
  CHECK(Buffer[0] == 0); // the fill waits behind the gate
  G.open();
  REQUIRE(F.sync() == 0);
  CHECK(F.Ops->queue_query(F.Queue) == 0);
  CHECK(Buffer[0] == 0x5a);
  CHECK(Buffer.back() == 0x5a);
}

TEST_CASE("host functions and copies run in enqueue order", "[queue]") {
  HostFixture F;
  OrderLog Log;
  std::vector<OrderItem> Items;
  Items.reserve(200);
  std::vector<int> Values(200, -1);
  for (int I = 0; I < 200; ++I) {
    Items.push_back({&Log, I});
    REQUIRE(F.Ops->enqueue_host_func(F.Queue, appendOrder, &Items.back()) == 0);
    if (I % 10 == 0)
      REQUIRE(F.Ops->enqueue_copy(F.Queue, &Values[I], &Items.back().Value, sizeof(int)) == 0);
  }
  REQUIRE(F.sync() == 0);
  REQUIRE(Log.Seen.size() == 200);
  for (int I = 0; I < 200; ++I) {
    CHECK(Log.Seen[I] == I);
    CHECK(Values[I] == (I % 10 == 0 ? I : -1));
  }
}

// A thread in queue_synchronize runs device commands the queue thread has not taken yet; host functions stay on
// the queue thread. Both race for every command here (two synchronising threads, host functions in between), and
// the order must still be exactly the enqueue order.
TEST_CASE("synchronising threads run queued copies in order with the queue thread", "[queue]") {
  HostFixture F;
  constexpr int N = 3000;
  std::vector<int> Src(N), Dst(N, -1);
  for (int I = 0; I < N; ++I)
    Src[I] = I;
  struct Check {
    const std::vector<int> *Dst;
    int Upto;
    std::atomic<int> *Wrong;
  };
  std::atomic<int> Wrong{0};
  std::vector<Check> Checks;
  Checks.reserve(N);
  auto CheckCopied = [](void *P) {
    auto *C = static_cast<Check *>(P);
    for (int I = 0; I <= C->Upto; ++I) // every earlier copy has run, no later one
      if ((*C->Dst)[I] != I)
        C->Wrong->fetch_add(1);
    if (C->Upto + 1 < static_cast<int>(C->Dst->size()) && (*C->Dst)[C->Upto + 1] != -1)
      C->Wrong->fetch_add(1);
  };
  std::atomic<bool> Stop{false};
  std::thread Other([&] {
    while (!Stop.load())
      F.Ops->queue_synchronize(F.Queue);
  });
  for (int I = 0; I < N; ++I) {
    REQUIRE(F.Ops->enqueue_copy(F.Queue, &Dst[I], &Src[I], sizeof(int)) == 0);
    if (I % 7 == 0) {
      Checks.push_back({&Dst, I, &Wrong});
      REQUIRE(F.Ops->enqueue_host_func(F.Queue, CheckCopied, &Checks.back()) == 0);
    }
    if (I % 13 == 0)
      REQUIRE(F.sync() == 0);
  }
  REQUIRE(F.sync() == 0);
  Stop = true;
  Other.join();
  CHECK(Wrong.load() == 0);
  CHECK(Dst == Src);
  CHECK(F.Ops->queue_query(F.Queue) == 0);
}

TEST_CASE("event_synchronize runs the commands up to the record and returns before later ones", "[queue][event]") {
  HostFixture F;
  constexpr int N = 500;
  std::vector<int> Src(N), Dst(N, -1);
  for (int I = 0; I < N; ++I)
    Src[I] = I;
  cushim_hal_event E = nullptr;
  REQUIRE(F.Ops->event_create(F.Ctx, 0, &E) == 0);
  for (int Round = 0; Round < 20; ++Round) {
    std::fill(Dst.begin(), Dst.end(), -1);
    // Copies, the record, then a host function that blocks: the event is reached although the queue is not idle.
    for (int I = 0; I < N; ++I)
      REQUIRE(F.Ops->enqueue_copy(F.Queue, &Dst[I], &Src[I], sizeof(int)) == 0);
    REQUIRE(F.Ops->event_record(E, F.Queue) == 0);
    Gate G;
    int Late = 0;
    REQUIRE(F.Ops->enqueue_host_func(F.Queue, &Gate::wait, &G) == 0);
    REQUIRE(F.Ops->enqueue_copy(F.Queue, &Late, &Src[1], sizeof(int)) == 0);
    REQUIRE(F.Ops->event_synchronize(E) == 0);
    CHECK(Dst == Src);
    CHECK(F.Ops->event_query(E) == 0);
    CHECK(F.Ops->queue_query(F.Queue) == CUDA_ERROR_NOT_READY);
    CHECK(Late == 0);
    G.open();
    REQUIRE(F.sync() == 0);
    CHECK(Late == 1);
  }
  REQUIRE(F.Ops->event_destroy(E) == 0);
}

TEST_CASE("events measure elapsed time and order queues", "[queue][event]") {
  HostFixture F;
  cushim_hal_event Start, End;
  REQUIRE(F.Ops->event_create(F.Ctx, 0, &Start) == 0);
  REQUIRE(F.Ops->event_create(F.Ctx, 0, &End) == 0);
  float Ms = -1;
  CHECK(F.Ops->event_elapsed_ms(&Ms, Start, End) == CUDA_ERROR_INVALID_HANDLE); // never recorded
  CHECK(F.Ops->event_query(Start) == 0);

  Gate G;
  int SleepFor = 20;
  REQUIRE(F.Ops->enqueue_host_func(F.Queue, &Gate::wait, &G) == 0);
  REQUIRE(F.Ops->event_record(Start, F.Queue) == 0);
  REQUIRE(F.Ops->enqueue_host_func(F.Queue, sleepMs, &SleepFor) == 0);
  REQUIRE(F.Ops->event_record(End, F.Queue) == 0);
  CHECK(F.Ops->event_query(End) == CUDA_ERROR_NOT_READY);
  CHECK(F.Ops->event_elapsed_ms(&Ms, Start, End) == CUDA_ERROR_NOT_READY);
  G.open();
  REQUIRE(F.Ops->event_synchronize(End) == 0);
  CHECK(F.Ops->event_query(End) == 0);
  REQUIRE(F.Ops->event_elapsed_ms(&Ms, Start, End) == 0);
  CHECK(Ms >= 19.0f);
  CHECK(Ms < 2000.0f);

  cushim_hal_event NoTiming;
  REQUIRE(F.Ops->event_create(F.Ctx, CU_EVENT_DISABLE_TIMING, &NoTiming) == 0);
  REQUIRE(F.Ops->event_record(NoTiming, F.Queue) == 0);
  REQUIRE(F.Ops->event_synchronize(NoTiming) == 0);
  CHECK(F.Ops->event_elapsed_ms(&Ms, Start, NoTiming) == CUDA_ERROR_INVALID_HANDLE);

  REQUIRE(F.Ops->event_destroy(Start) == 0);
  REQUIRE(F.Ops->event_destroy(End) == 0);
  REQUIRE(F.Ops->event_destroy(NoTiming) == 0);
  CHECK(F.Ops->event_destroy(NoTiming) == CUDA_ERROR_INVALID_HANDLE);
}

namespace {
struct CrossQueue {
  std::atomic<int> Value{0};
  int Observed = -1;
};
void setValue(void *P) {
  std::this_thread::sleep_for(std::chrono::milliseconds(30));
  static_cast<CrossQueue *>(P)->Value = 1;
}
void readValue(void *P) {
  auto *S = static_cast<CrossQueue *>(P);
  S->Observed = S->Value.load();
}
} // namespace

TEST_CASE("queue_wait_event makes one queue wait for a point in another", "[queue][event]") {
  HostFixture F;
  cushim_hal_queue Other;
  REQUIRE(F.Ops->queue_create(F.Ctx, 0, 0, &Other) == 0);
  cushim_hal_event E;
  REQUIRE(F.Ops->event_create(F.Ctx, 0, &E) == 0);
  CrossQueue State;
  REQUIRE(F.Ops->enqueue_host_func(F.Queue, setValue, &State) == 0);
  REQUIRE(F.Ops->event_record(E, F.Queue) == 0);
  REQUIRE(F.Ops->queue_wait_event(Other, E) == 0);
  REQUIRE(F.Ops->enqueue_host_func(Other, readValue, &State) == 0);
  REQUIRE(F.Ops->queue_synchronize(Other) == 0);
  CHECK(State.Observed == 1);
  REQUIRE(F.sync() == 0);
  REQUIRE(F.Ops->event_destroy(E) == 0);
  REQUIRE(F.Ops->queue_destroy(Other) == 0);
}

TEST_CASE("fills of 1, 2 and 4 byte elements and 1D/2D copies", "[queue][memory]") {
  HostFixture F;
  void *Dev = nullptr;
  REQUIRE(F.Ops->mem_alloc(F.Ctx, 4096, CUSHIM_HAL_MEMORY_DEVICE, &Dev) == 0);
  auto *Bytes = static_cast<uint8_t *>(Dev);
  REQUIRE(F.Ops->enqueue_fill(F.Queue, Bytes, 0x1ab, 1, 10) == 0);
  REQUIRE(F.Ops->enqueue_fill(F.Queue, Bytes + 10, 0xbeef, 2, 5) == 0);
  REQUIRE(F.Ops->enqueue_fill(F.Queue, Bytes + 20, 0x12345678, 4, 3) == 0);
  CHECK(F.Ops->enqueue_fill(F.Queue, Bytes, 0, 3, 1) == CUDA_ERROR_INVALID_VALUE);
  REQUIRE(F.sync() == 0);
  for (int I = 0; I < 10; ++I)
    CHECK(Bytes[I] == 0xab);
  for (int I = 0; I < 5; ++I) {
    uint16_t V;
    std::memcpy(&V, Bytes + 10 + 2 * I, 2);
    CHECK(V == 0xbeef);
  }
  for (int I = 0; I < 3; ++I) {
    uint32_t V;
    std::memcpy(&V, Bytes + 20 + 4 * I, 4);
    CHECK(V == 0x12345678u);
  }

  std::vector<uint8_t> Src(16 * 8), Dst(32 * 8, 0);
  for (size_t I = 0; I < Src.size(); ++I)
    Src[I] = static_cast<uint8_t>(I);
  REQUIRE(F.Ops->enqueue_copy(F.Queue, Dev, Src.data(), Src.size()) == 0);
  REQUIRE(F.Ops->enqueue_copy_2d(F.Queue, Dst.data(), 32, Dev, 16, 10, 8) == 0);
  REQUIRE(F.sync() == 0);
  for (size_t Row = 0; Row < 8; ++Row)
    for (size_t Col = 0; Col < 32; ++Col)
      CHECK(Dst[Row * 32 + Col] == (Col < 10 ? Src[Row * 16 + Col] : 0));
  REQUIRE(F.Ops->mem_free(F.Ctx, Dev, CUSHIM_HAL_MEMORY_DEVICE) == 0);
}
