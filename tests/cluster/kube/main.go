// Command kube-local is a multi-call binary holding the real Kubernetes control-plane
// commands, the kwok node simulator and etcd, so one Go build serves the test cluster.
//
// The command is picked by the first argument or, when invoked through a symlink, by the
// name it was called as:
//
//	kube-local apiserver          ARGS...  (k8s.io/kubernetes/cmd/kube-apiserver)
//	kube-local controller-manager ARGS...  (k8s.io/kubernetes/cmd/kube-controller-manager)
//	kube-local scheduler          ARGS...  (k8s.io/kubernetes/cmd/kube-scheduler)
//	kube-local kwok               ARGS...  (sigs.k8s.io/kwok/cmd/kwok)
//	kube-local etcd               ARGS...  (go.etcd.io/etcd/server/v3/etcdmain)
//	kube-local kwok-config N      prints kwok's configuration: options (N pod workers) and stages
//	kube-local version
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	_ "time/tzdata" // for CronJob time zone support, as in the upstream mains

	"github.com/spf13/pflag"
	"go.etcd.io/etcd/server/v3/etcdmain"
	"k8s.io/component-base/cli"
	_ "k8s.io/component-base/logs/json/register"          // JSON log format, as upstream
	_ "k8s.io/component-base/metrics/prometheus/clientgo" // client-go metrics, as upstream
	_ "k8s.io/component-base/metrics/prometheus/version"  // version metric, as upstream
	apiserver "k8s.io/kubernetes/cmd/kube-apiserver/app"
	controllermanager "k8s.io/kubernetes/cmd/kube-controller-manager/app"
	scheduler "k8s.io/kubernetes/cmd/kube-scheduler/app"
	nodefast "sigs.k8s.io/kwok/kustomize/stage/node/fast"
	nodelease "sigs.k8s.io/kwok/kustomize/stage/node/heartbeat-with-lease"
	podfast "sigs.k8s.io/kwok/kustomize/stage/pod/fast"
	kwokv1alpha1 "sigs.k8s.io/kwok/pkg/apis/config/v1alpha1"
	kwokconfig "sigs.k8s.io/kwok/pkg/config"
	kwokcmd "sigs.k8s.io/kwok/pkg/kwok/cmd"
	kwoklog "sigs.k8s.io/kwok/pkg/log"
	kwoksignals "sigs.k8s.io/kwok/pkg/utils/signals"
)

var commands = []string{
	"apiserver", "controller-manager", "scheduler", "kwok", "etcd", "kwok-config", "version",
}

func main() {
	name := strings.TrimPrefix(filepath.Base(os.Args[0]), "kube-")
	args := os.Args[1:]
	if !known(name) {
		if len(args) == 0 || !known(args[0]) {
			fmt.Fprintf(os.Stderr, "usage: %s {%s} [ARGS...]\n", os.Args[0], strings.Join(commands, "|"))
			os.Exit(2)
		}
		name, args = args[0], args[1:]
	}
	// Every upstream main reads os.Args itself; make it look as if it was called directly.
	os.Args = append([]string{name}, args...)
	os.Exit(run(name))
}

func known(name string) bool {
	for _, c := range commands {
		if c == name {
			return true
		}
	}
	return false
}

func run(name string) int {
	switch name {
	case "apiserver":
		return cli.Run(apiserver.NewAPIServerCommand())
	case "controller-manager":
		return cli.Run(controllermanager.NewControllerManagerCommand())
	case "scheduler":
		return cli.Run(scheduler.NewSchedulerCommand())
	case "kwok":
		return runKwok()
	case "etcd":
		etcdmain.Main(os.Args)
		return 0
	case "kwok-config":
		return printKwokConfig(os.Args[1:])
	case "version":
		printVersions()
		return 0
	}
	return 2
}

// runKwok is sigs.k8s.io/kwok/cmd/kwok's main.
func runKwok() int {
	// The Kubernetes commands linked into this binary register a global "--version" flag
	// (component-base/version/verflag) on pflag.CommandLine, which cobra merges into every
	// root command; kwok's cobra command has a bool "--version" of its own. Give kwok the
	// clean global flag set it has when built alone.
	pflag.CommandLine = pflag.NewFlagSet(os.Args[0], pflag.ExitOnError)

	flagset := pflag.NewFlagSet("global", pflag.ContinueOnError)
	flagset.ParseErrorsAllowlist.UnknownFlags = true
	flagset.Usage = func() {}

	ctx := kwoksignals.SetupSignalContext()
	ctx, logger := kwoklog.InitFlags(ctx, flagset)

	ctx, err := kwokconfig.InitFlags(ctx, flagset)
	if err != nil {
		_, _ = os.Stderr.Write([]byte(flagset.FlagUsages()))
		logger.Error("Init config flags", "err", err)
		return 1
	}

	command := kwokcmd.NewCommand(ctx)
	command.PersistentFlags().AddFlagSet(flagset)
	if err := command.ExecuteContext(ctx); err != nil {
		logger.Error("Execute exit", "err", err)
		return 1
	}
	return 0
}

// printKwokConfig prints kwok's configuration file: a KwokConfiguration with kwok's defaults
// but podPlayStageParallelism set to args[0], then the stages. kwok applies its defaults only
// when the file holds no KwokConfiguration at all, so the document carries every default.
func printKwokConfig(args []string) int {
	n, err := strconv.ParseUint(strings.Join(args, ""), 10, 32)
	if err != nil || n == 0 || len(args) != 1 {
		fmt.Fprintln(os.Stderr, "usage: kwok-config POD_PLAY_STAGE_PARALLELISM (a whole number above 0)")
		return 2
	}
	conf := &kwokv1alpha1.KwokConfiguration{}
	kwokv1alpha1.SetObjectDefaults_KwokConfiguration(conf)
	conf.APIVersion = kwokv1alpha1.GroupVersion.String()
	conf.Kind = kwokv1alpha1.KwokConfigurationKind
	conf.Options.PodPlayStageParallelism = uint(n)
	doc, err := json.Marshal(conf) // JSON is YAML
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Printf("%s\n---\n", doc)
	printKwokStages()
	return 0
}

// printKwokStages prints the Stage documents kwok's own "fast" configuration uses (node
// initialisation, node heartbeat with a lease, pod ready, pod delete), straight from the kwok
// module so they match the kwok version built here. It leaves out "pod-complete", which would
// mark any Job pod that lands on a kwok node Succeeded without running anything: a Job pod
// must go to the job executor's node, and if one does not it should hang visibly instead.
func printKwokStages() {
	docs := []string{
		nodefast.DefaultNodeInit,
		nodelease.DefaultNodeHeartbeatWithLease,
		podfast.DefaultPodReady,
		podfast.DefaultPodDelete,
	}
	for i, doc := range docs {
		if i > 0 {
			fmt.Println("---")
		}
		fmt.Print(strings.TrimRight(doc, "\n") + "\n")
	}
}

func printVersions() {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		fmt.Println("no build info")
		return
	}
	fmt.Printf("go %s\n", info.GoVersion)
	for _, dep := range info.Deps {
		switch dep.Path {
		case "k8s.io/kubernetes", "sigs.k8s.io/kwok", "go.etcd.io/etcd/server/v3":
			fmt.Printf("%s %s\n", dep.Path, dep.Version)
		}
	}
}
