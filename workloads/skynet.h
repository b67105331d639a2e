// skynet.h — `skynet`: a 10-ary tree of tasks with `leaves` leaves; leaf k answers k, every parent spawns
// its 10 children, receives their answers on a channel of capacity 10 and sends the sum up. The root's
// sum must be leaves·(leaves−1)/2. Each answer also carries the number of tasks in its subtree, so
// tasks_created is counted by the spawners themselves, without a shared counter. op = one task.
#pragma once

#include <memory>

#include "workloads/workload.h"

namespace spindle {

struct Skynet {
  static constexpr std::string_view name = "skynet";
  static constexpr std::string_view summary = "10-ary tree of tasks, parents sum their children via channels";
  static constexpr std::string_view op = "one task of the tree";
  static constexpr MainFigure main_figure{"ns_per_op", "ns/op"};
  static std::vector<ParamSpec> params() {
    return {{"leaves", 1'000'000, 1, 100'000'000, "leaves of the tree (a power of 10)", true}};
  }
  static std::uint64_t tree_tasks(std::int64_t leaves) {
    std::uint64_t n = 0;
    for (std::int64_t level = leaves; level >= 1; level /= 10) n += std::uint64_t(level);
    return n;
  }
  static Requirements requirements(const ParamValues& p) {
    return {.fork_join_channels = true, .concurrent_tasks = tree_tasks(p.at("leaves"))};
  }

  struct Answer {
    std::int64_t sum = 0;
    std::int64_t tasks = 0;  // tasks in the subtree, its root included
  };

  template <Runtime R>
  using AnswerChannel = typename R::template Channel<Answer>;

  template <Runtime R>
  static void node(R& rt, AnswerChannel<R>* out, std::int64_t first, std::int64_t size) {
    if (size == 1) {
      out->send(Answer{first, 1});
      return;
    }
    // The channel lives on the heap: children write to it while this task is parked.
    auto children = std::make_unique<AnswerChannel<R>>(10);
    const std::int64_t step = size / 10;
    for (int i = 0; i < 10; ++i) {
      AnswerChannel<R>* c = children.get();
      rt.spawn([&rt, c, first, i, step] { node(rt, c, first + i * step, step); });
    }
    Answer total{0, 1};
    for (int i = 0; i < 10; ++i) {
      Answer a = children->recv().value_or(Answer{});
      total.sum += a.sum;
      total.tasks += a.tasks;
    }
    out->send(total);
  }

  template <Runtime R>
  static WorkloadResult run(R& rt, const ParamValues& p) {
    const std::int64_t leaves = p.at("leaves");
    AnswerChannel<R> result(1);
    Answer answer;
    rt.run([&] {
      rt.spawn([&] { node(rt, &result, 0, leaves); });
      answer = result.recv().value_or(Answer{});
    });
    const std::int64_t want_tasks = std::int64_t(tree_tasks(leaves));
    WorkloadResult r = passed(std::uint64_t(answer.tasks), std::uint64_t(answer.tasks));
    expect(r, "sum", leaves * (leaves - 1) / 2, answer.sum);
    expect(r, "tasks in the tree", want_tasks, answer.tasks);
    return r;
  }
};

}  // namespace spindle
