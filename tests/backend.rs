//! The backend factory and trait: the `auto` rule, adapters by index, cancellation between
//! submissions, and replicas that cannot share a batched run.

mod common;

use infobound::backend::{self, BackendError, GpuError, Replica, RunOptions};
use infobound::experiments::tasks::correlated_gaussian;
use infobound::gpu::list_adapters;
use infobound::math::spec::Batches;
use infobound::{CancelToken, DeviceChoice, Error, Estimator, Matrix};

#[test]
fn auto_takes_a_hardware_adapter_and_else_the_cpu_unless_a_gpu_is_required() {
    let chosen = list_adapters()
        .into_iter()
        .find(|(_, c)| *c)
        .map(|(a, _)| a);
    let opened = backend::open(DeviceChoice::Auto).unwrap();
    eprintln!("auto: {} ({})", opened.backend.device_name(), opened.reason);
    match chosen {
        Some(a) if !a.is_software || backend::gpu_required() => {
            assert_eq!(opened.backend.gpu().unwrap().adapter().name, a.name);
        }
        Some(a) => {
            assert!(opened.backend.gpu().is_none());
            assert!(opened.reason.contains(&a.name), "{}", opened.reason);
        }
        None => assert!(opened.backend.gpu().is_none()),
    }
}

#[test]
fn an_adapter_is_chosen_by_index() {
    let count = list_adapters().len();
    match backend::open(DeviceChoice::Adapter(count)) {
        Err(BackendError::Gpu(GpuError::NoSuchAdapter { index, count: c })) => {
            assert_eq!((index, c), (count, count));
        }
        Err(e) => panic!("expected NoSuchAdapter, got {e}"),
        Ok(_) => panic!("adapter {count} of {count} opened"),
    }
    if common::gpu().is_some() {
        let first = &list_adapters()[0].0;
        let opened = backend::open(DeviceChoice::Adapter(0)).unwrap();
        assert_eq!(opened.backend.gpu().unwrap().adapter().name, first.name);
    }
}

#[test]
fn a_cancelled_estimate_stops_between_submissions() {
    let n = 2000;
    let (x, y) = correlated_gaussian(1, 0.6, n, 3);
    let token = CancelToken::new();
    let est = Estimator::default()
        .with_device(DeviceChoice::Cpu)
        .with_hidden(vec![16])
        .with_steps(1000)
        .with_eval_every(50)
        .with_chunk(25)
        .with_cancel(Some(token.clone()));
    // Cancelled from the progress callback after the second evaluation (step 100).
    let r = est.estimate_with_progress(Matrix::column(&x), Matrix::column(&y), |p| {
        if p.step >= 100 {
            token.cancel();
        }
    });
    match r {
        Err(Error::Cancelled { step }) => assert_eq!(step, 100),
        other => panic!("expected a cancellation, got {other:?}"),
    }
}

#[test]
fn replicas_that_cannot_share_a_run_are_refused_by_every_backend() {
    let spec = Estimator::default().with_batch(4).train_spec(1, 1);
    let wider = Estimator::default().with_batch(5).train_spec(1, 1);
    let rho = [0.5f32];
    let batches = Batches::Gaussian {
        rho: &rho,
        transform: Default::default(),
    };
    let mixed = [
        Replica::new(spec.clone(), batches, None),
        Replica::new(wider, batches, None),
    ];
    let mut choices = vec![DeviceChoice::Cpu, DeviceChoice::CpuReference];
    if common::gpu().is_some() {
        choices.push(DeviceChoice::Gpu);
    }
    for choice in choices {
        let opened = backend::open(choice).unwrap().backend;
        let options = RunOptions::default();
        match opened.replicated(&mixed, &options).err() {
            Some(BackendError::ReplicaMismatch { replica: 1, what }) => assert_eq!(what, "batch"),
            other => panic!("{choice}: expected a mismatch, got {other:?}"),
        }
        assert!(matches!(
            opened.replicated(&[], &options).err(),
            Some(BackendError::NoReplicas)
        ));
    }
}
