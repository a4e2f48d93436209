// The commands of a host queue: small callables stored in place (no allocation per command, unlike std::function
// for anything larger than two pointers) and the ring buffer that holds them in order. Internal to HostQueue.
#pragma once

#include <cuda.h>

#include <cstddef>
#include <new>
#include <type_traits>
#include <utility>
#include <vector>

namespace cushim::host {

// What a command is, which decides who may run it: a thread waiting in a synchronising call runs device work and
// event records itself (HostQueue::drain); host functions and event waits stay on the queue's own thread.
enum class CommandKind : unsigned char {
  Device, // copies, fills, launches: skipped once the context has a sticky fault
  Record, // an event record
  Wait,   // a wait for another queue's event
  Host,   // a host function (cudaLaunchHostFunc, stream callbacks)
};

class QueueCommand {
public:
  static constexpr size_t Capacity = 48;

  QueueCommand() = default;
  template <typename Fn> QueueCommand(CommandKind Kind, Fn &&F) : Kind(Kind) {
    using T = std::decay_t<Fn>;
    static_assert(sizeof(T) <= Capacity && alignof(T) <= alignof(std::max_align_t),
                  "a queue command's captures must fit QueueCommand::Capacity");
    new (Storage) T(std::forward<Fn>(F));
    Ops = &OpsFor<T>;
  }
  QueueCommand(QueueCommand &&Other) noexcept { takeFrom(Other); }
  QueueCommand &operator=(QueueCommand &&Other) noexcept {
    if (this != &Other) {
      reset();
      takeFrom(Other);
    }
    return *this;
  }
  QueueCommand(const QueueCommand &) = delete;
  QueueCommand &operator=(const QueueCommand &) = delete;
  ~QueueCommand() { reset(); }

  CommandKind kind() const { return Kind; }
  CUresult run() { return Ops->Run(Storage); }
  // Destroys the callable (and what it captured).
  void reset() {
    if (Ops) {
      Ops->Destroy(Storage);
      Ops = nullptr;
    }
  }

private:
  struct Table {
    CUresult (*Run)(void *);
    void (*Relocate)(void *From, void *To); // move-constructs at To and destroys From
    void (*Destroy)(void *);
  };
  template <typename T>
  static constexpr Table OpsFor = {
      [](void *P) -> CUresult { return (*static_cast<T *>(P))(); },
      [](void *From, void *To) {
        new (To) T(std::move(*static_cast<T *>(From)));
        static_cast<T *>(From)->~T();
      },
      [](void *P) { static_cast<T *>(P)->~T(); }};

  void takeFrom(QueueCommand &Other) {
    Kind = Other.Kind;
    Ops = Other.Ops;
    if (Ops)
      Ops->Relocate(Other.Storage, Storage);
    Other.Ops = nullptr;
  }

  const Table *Ops = nullptr;
  CommandKind Kind = CommandKind::Device;
  alignas(std::max_align_t) unsigned char Storage[Capacity];
};

// A FIFO of commands in a ring that only grows (to the longest backlog the queue had), so steady-state queueing
// allocates nothing.
class CommandRing {
public:
  bool empty() const { return Count == 0; }
  size_t size() const { return Count; }
  QueueCommand &front() { return Slots[Head]; }
  void push(QueueCommand &&C) {
    if (Count == Slots.size())
      grow();
    Slots[(Head + Count) % Slots.size()] = std::move(C);
    ++Count;
  }
  QueueCommand pop() {
    QueueCommand C = std::move(Slots[Head]);
    Head = (Head + 1) % Slots.size();
    --Count;
    return C;
  }

private:
  void grow() {
    std::vector<QueueCommand> Bigger(Slots.empty() ? 16 : Slots.size() * 2);
    for (size_t I = 0; I < Count; ++I)
      Bigger[I] = std::move(Slots[(Head + I) % Slots.size()]);
    Slots = std::move(Bigger);
    Head = 0;
  }

  std::vector<QueueCommand> Slots;
  size_t Head = 0, Count = 0;
};

} // namespace cushim::host
