//! The backend factory and trait: the `auto` rule, adapters by index, cancellation between
//! submissions, and the options no backend supports yet.

mod common;

use infobound::backend::{self, BackendError, GpuError, RunOptions};
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
fn more_than_one_replica_is_refused_by_both_backends() {
    let options = RunOptions::default().with_replicas(2);
    let spec = Estimator::default().with_batch(4).train_spec(1, 1);
    let rho = [0.5f32];
    let batches = || Batches::Gaussian {
        rho: &rho,
        transform: Default::default(),
    };
    let cpu = backend::open(DeviceChoice::Cpu).unwrap().backend;
    let err = cpu.trainer(&spec, batches(), None, &options).err().unwrap();
    assert!(
        matches!(err, BackendError::Replicas { replicas: 2 }),
        "{err}"
    );
    if common::gpu().is_some() {
        let gpu = backend::open(DeviceChoice::Gpu).unwrap().backend;
        let err = gpu.trainer(&spec, batches(), None, &options).err().unwrap();
        assert!(
            matches!(err, BackendError::Replicas { replicas: 2 }),
            "{err}"
        );
    }
}
